# ST-FNO: Eddy's solvers/stfno against a PyTorch reference of the same network
# (PyTorch is installed on demand and used by this benchmark only).
topics[stfno]="bash bench/stfno/compare.sh"
