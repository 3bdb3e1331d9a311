// Starts Swagger UI on /swagger/index.html; a file of its own because the
// Content-Security-Policy allows no inline script. The document's URL comes from data-spec-url.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    persistAuthorization: true,
    validatorUrl: null  // no calls to an outside validator
  });
})();
