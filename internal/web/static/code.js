// The code page: a running clock and countdown, so a screenshot is
// visibly stale, and a fresh code fetched before the shown one expires.
// The card is server-rendered HTML; the refresh swaps in a new card from
// the page's own session (no API token in the page).
(function () {
  "use strict";
  var card = document.getElementById("code-card");
  if (!card) return;
  var clock = document.getElementById("clock");
  var left = document.getElementById("left");
  // The server's time when it drew the card, against this device's clock:
  // a phone set to the wrong time still shows the right one.
  var skew = 0;
  var offset = 0; // minutes east of UTC of the deployment's zone
  var refreshing = false, failures = 0, nextTry = 0;

  function read() {
    skew = Number(card.getAttribute("data-now")) - Date.now();
    offset = Number(card.getAttribute("data-offset")) || 0;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmt(ms) {
    var d = new Date(ms + offset * 60000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function refresh() {
    refreshing = true;
    var url = card.getAttribute("data-refresh");
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (res.status === 401 || res.redirected) { window.location.reload(); throw new Error("session"); }
        if (!res.ok) throw new Error("status " + res.status);
        return res.text();
      })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var fresh = tpl.content.firstElementChild;
        if (!fresh || fresh.id !== "code-card") throw new Error("no card");
        card.replaceWith(fresh);
        card = fresh;
        clock = document.getElementById("clock");
        left = document.getElementById("left");
        read();
        failures = 0;
        // The colour may have changed since the last code.
        var band = document.getElementById("band");
        if (band) band.className = "band " + card.getAttribute("data-color");
      })
      .catch(function () {
        failures++;
        nextTry = Date.now() + Math.min(30000, 2000 * failures);
      })
      .then(function () { refreshing = false; });
  }

  function tick() {
    var now = Date.now() + skew;
    if (clock) clock.textContent = fmt(now);
    var exp = Number(card.getAttribute("data-expires"));
    var margin = Number(card.getAttribute("data-margin")) || 30000;
    var remain = exp - now;
    if (left) {
      var s = Math.max(0, Math.ceil((remain - margin) / 1000));
      left.textContent = String(s);
    }
    card.classList.toggle("stale", remain <= 0);
    if (!refreshing && remain <= margin && Date.now() >= nextTry) refresh();
  }

  // Exposed for the page's own tests and for a manual "refresh now".
  window.healthcodeRefresh = refresh;
  var btn = document.getElementById("refresh-now");
  if (btn) btn.addEventListener("click", function (e) { e.preventDefault(); refresh(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });

  read();
  tick();
  setInterval(tick, 1000);
})();
