// The API reference: Redoc (vendor/redoc.standalone.js, embedded) renders
// the server's own /openapi.json. Fonts are the system's, so that nothing is
// fetched from elsewhere.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('redoc');
  const font = 'system-ui, sans-serif';
  window.Redoc.init('/openapi.json', {
    hideDownloadButton: false,
    expandResponses: '200,201,202',
    jsonSampleExpandLevel: 2,
    theme: {
      typography: {
        fontFamily: font,
        headings: { fontFamily: font },
        code: { fontFamily: 'ui-monospace, monospace' },
      },
    },
  }, root, (err) => {
    if (err) {
      const p = document.createElement('p');
      p.className = 'docs-error';
      p.setAttribute('role', 'alert');
      p.textContent = 'The API reference could not be rendered: ' + (err.message || err);
      root.replaceChildren(p);
      return;
    }
    document.body.dataset.rendered = 'true';
  });
});
