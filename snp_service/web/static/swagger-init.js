// Starts Swagger UI on /api/v1/docs from a file: the Content-Security-Policy refuses inline scripts.
// BaseLayout, without the standalone top bar, whose logo is an SVG with inline styles the policy refuses.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
