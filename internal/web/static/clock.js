// A running clock (the check-in result), so a screenshot is visibly old.
// It counts from the server's time in the deployment's zone.
(function () {
  "use strict";
  var el = document.getElementById("clock");
  if (!el) return;
  var skew = Number(el.getAttribute("data-now")) - Date.now();
  var offset = Number(el.getAttribute("data-offset")) || 0;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var d = new Date(Date.now() + skew + offset * 60000);
    el.textContent = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }
  tick();
  setInterval(tick, 1000);
})();
