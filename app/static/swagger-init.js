// Starts Swagger UI on /swagger/index.html; a file of its own because the
// Content-Security-Policy allows no inline script. The document's URL comes from data-spec-url,
// the workspace to pre-fill in every call's {workspaceId} from data-workspace.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var workspace = root.getAttribute("data-workspace");

  function prefill(spec) {
    if (!workspace) return spec;
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path];
      Object.keys(item).forEach(function (method) {
        (item[method].parameters || []).forEach(function (p) {
          if (p.name === "workspaceId" && p.in === "path") {
            p.schema = Object.assign({}, p.schema, { default: workspace });
            p.example = workspace;
          }
        });
      });
    });
    return spec;
  }

  function start(options) {
    window.ui = SwaggerUIBundle(Object.assign({
      domNode: root,
      persistAuthorization: true,
      validatorUrl: null  // no calls to an outside validator
    }, options));
  }

  var url = root.getAttribute("data-spec-url");
  fetch(url, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (spec) { start({ spec: prefill(spec) }); })
    .catch(function () { start({ url: url }); });
})();
