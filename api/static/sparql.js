// The SPARQL page: YASGUI (vendored) against this server's /sparql, with the saved governance
// queries one click away. Nothing is fetched from elsewhere and nothing persists in the browser.
(function () {
  "use strict";
  const queries = JSON.parse(document.getElementById("saved-queries-data").textContent);
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: new URL("/sparql", window.location.href).href, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    endpointCatalogueOptions: { getData: () => [] },
    yasqe: { value: queries.length ? queries[0].text : "SELECT * WHERE { ?s ?p ?o } LIMIT 10" },
  });
  window.medgradeYasgui = yasgui;
  document.querySelectorAll("[data-query]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const q = queries.find((x) => x.name === link.dataset.query);
      const tab = yasgui.getTab();
      tab.setQuery(q.text);
      tab.query();
    });
  });
})();
