// The panels around the code (trip card, latest test, vaccination) load
// one by one after the code is shown. A panel that fails or is refused
// under load says so and leaves the code alone.
(function () {
  "use strict";
  var panels = document.querySelectorAll("[data-panel]");
  Array.prototype.forEach.call(panels, function (el) {
    var body = el.querySelector(".panel-body");
    var down = el.querySelector(".panel-down");
    function fail() {
      if (body) body.hidden = true;
      if (down) down.hidden = false;
      el.setAttribute("data-state", "down");
    }
    fetch(el.getAttribute("data-panel"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.text();
      })
      .then(function (html) {
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var fresh = tmp.querySelector(".panel-body");
        if (!fresh || !body) return fail();
        body.replaceWith(fresh);
        el.setAttribute("data-state", "loaded");
      })
      .catch(fail);
  });
})();
