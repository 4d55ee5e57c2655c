// The unit scanner: a scanner gun types the code and Enter, which submits
// the form (no script needed); where the browser has BarcodeDetector, the
// camera reads the code into the same form and submits it.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("scan-strings").textContent || "{}");
  var $ = function (id) { return document.getElementById(id); };
  var btn = $("camera-btn");
  if (!btn || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var stream = null, timer = null;
  var label = btn.textContent;
  btn.hidden = false;
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    $("camera").hidden = true;
    btn.textContent = label;
  }
  btn.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      var v = $("camera");
      v.srcObject = s;
      v.hidden = false;
      v.play();
      btn.textContent = S.camera_stop || label;
      timer = setInterval(function () {
        detector.detect(v).then(function (codes) {
          if (!codes.length) return;
          stop();
          $("code-input").value = codes[0].rawValue;
          $("scan-form").submit();
        }).catch(function () {});
      }, 250);
    }, function () { btn.textContent = S.camera_failed || label; });
  });
})();
