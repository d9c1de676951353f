package jobs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"eddy/storage"
)

// NoMemoryLimit as Config.MaxJobMemory turns the memory check off.
const NoMemoryLimit = -1

// fallbackMachineMemory is assumed when the machine's memory cannot be read.
const fallbackMachineMemory = 4 << 30

// DefaultMaxJobMemory returns the memory budget of one job in a process that
// runs workers jobs at once: 80% of the memory available to the process,
// divided by workers. The memory available is MemTotal of /proc/meminfo, or
// the memory limit of the process's cgroup (v2 memory.max, v1
// memory.limit_in_bytes, the smallest along the path to the root) when that
// is smaller; 4 GiB when neither can be read.
//
// An insert-only process (workers = 0, the API in front of separate worker
// processes) gets 80% of its own machine's memory: it cannot know the
// workers' machines, so the workers should be given their budget as well, and
// each worker refuses a run that exceeds its own.
func DefaultMaxJobMemory(workers int) int64 {
	return int64(0.8 * float64(availableMemory("/")) / float64(max(workers, 1)))
}

// availableMemory returns the memory available to this process, reading the
// proc and cgroup files under root (the root of the file system).
func availableMemory(root string) int64 {
	mem := memTotal(filepath.Join(root, "proc", "meminfo"))
	if lim := cgroupLimit(root); lim > 0 && (mem == 0 || lim < mem) {
		mem = lim
	}
	if mem <= 0 {
		return fallbackMachineMemory
	}
	return mem
}

// memTotal returns MemTotal of a /proc/meminfo file in bytes, or 0.
func memTotal(file string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "24683548 kB"
		if len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit returns the smallest memory limit set on the cgroups of this
// process (as listed in /proc/self/cgroup) and their ancestors, or 0 if none
// is set: memory.max under the cgroup v2 mount, memory.limit_in_bytes under
// the v1 memory controller's.
func cgroupLimit(root string) int64 {
	b, err := os.ReadFile(filepath.Join(root, "proc", "self", "cgroup"))
	if err != nil {
		return 0
	}
	var limit int64
	for _, line := range strings.Split(string(b), "\n") {
		// hierarchy-ID:controllers:path
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var dir, file string
		switch {
		case f[0] == "0" && f[1] == "":
			dir, file = filepath.Join(root, "sys", "fs", "cgroup"), "memory.max"
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			dir, file = filepath.Join(root, "sys", "fs", "cgroup", "memory"), "memory.limit_in_bytes"
		default:
			continue
		}
		for p := path.Clean("/" + f[2]); ; p = path.Dir(p) {
			if v := limitFile(filepath.Join(dir, filepath.FromSlash(p), file)); v > 0 && (limit == 0 || v < limit) {
				limit = v
			}
			if p == "/" {
				break
			}
		}
	}
	return limit
}

// limitFile reads a cgroup memory limit in bytes; "max" (v2), a v1 value of
// 2^62 or more (v1's way of saying none) or an unreadable file give 0.
func limitFile(file string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= 1<<62 {
		return 0
	}
	return v
}

// memoryUnits are the suffixes ParseMemorySize accepts, lower-cased: SI
// (powers of 1000) and IEC (powers of 1024), with or without a final B.
var memoryUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
}

// ParseMemorySize parses an amount of memory as EDDY_MAX_JOB_MEMORY gives
// it: a number of bytes, optionally fractional and followed by a unit, SI
// (K, M, G, T: powers of 1000, with or without B) or IEC (Ki, Mi, Gi, Ti:
// powers of 1024, with or without B), in any case: "1073741824", "512MiB",
// "4GiB", "2G", "1.5Gi". The result is rounded down to whole bytes.
func ParseMemorySize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	scale, ok := memoryUnits[unit]
	if !ok {
		return 0, fmt.Errorf("memory size %q: unknown unit %q (want e.g. 512MiB, 4GiB or 2G)", s, t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("memory size %q: want a number of bytes, optionally with a unit (512MiB, 4GiB, 2G)", s)
	}
	b := v * scale
	if b >= math.MaxInt64 {
		return 0, errors.New("memory size " + strconv.Quote(s) + " is too large")
	}
	return int64(b), nil
}

// formatBytes writes a memory size for a message: "3.2 GiB", "40.0 MiB".
func formatBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}

// saturatedBytes converts a byte count computed in float64, so that absurd
// sizes cannot overflow, to int64, saturating at math.MaxInt64.
func saturatedBytes(b float64) int64 {
	if b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}

// overBudget returns the memory estimate of a run of kind k with params and
// the uploads they name, the param that drives it, and whether it exceeds
// this process's budget.
func (s *Service) overBudget(k Kind, params any, uploads map[string]*storage.Upload) (need int64, param string, over bool) {
	if s.maxJobMemory < 0 {
		return 0, "", false
	}
	need, param = k.memory(params, uploads)
	return need, param, need > s.maxJobMemory
}

// budgetMessage says that a run needs more memory than this process allows;
// who names the process ("server", "worker").
func (s *Service) budgetMessage(need int64, who string) string {
	return fmt.Sprintf("needs about %s of memory; this %s allows %s per job (EDDY_MAX_JOB_MEMORY)",
		formatBytes(need), who, formatBytes(s.maxJobMemory))
}
