// Small behaviours every page shares: confirmation before destructive
// forms, and print buttons. Everything works without it.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var msg = f.getAttribute && f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // A select that chooses what a form shows submits itself.
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-autosubmit") && e.target.form) e.target.form.submit();
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-print]");
    if (b) { e.preventDefault(); window.print(); }
    // A copy button copies its target's text (a key shown once) and says so.
    var c = e.target.closest && e.target.closest("[data-copy]");
    if (c) {
      e.preventDefault();
      var el = document.querySelector(c.getAttribute("data-copy"));
      if (!el) return;
      var text = el.textContent.trim();
      var done = function () { c.textContent = c.getAttribute("data-copied") || c.textContent; c.classList.add("copied"); };
      // Where the clipboard API is refused, the text is selected for the
      // person to copy by hand.
      var fallback = function () {
        select(el);
        try { if (document.execCommand("copy")) done(); } catch (err) {}
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    }
  });
  function select(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
  }
})();
