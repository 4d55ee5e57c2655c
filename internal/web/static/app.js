// Small behaviours every page shares: confirmation before destructive
// forms, and print buttons. Everything works without it.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var msg = f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-print]");
    if (b) { e.preventDefault(); window.print(); }
  });
})();
