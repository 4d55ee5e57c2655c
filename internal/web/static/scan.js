// The checkpoint scanner. The checkpoint's API key lives in this browser's
// localStorage and goes only into the Authorization header of the API calls
// this script makes (POST /api/v1/verify, /api/v1/verify/id): it is never
// part of a page URL or form, so it never reaches a server log.
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("scan-strings").textContent || "{}");
  var R = {};
  var rs = document.getElementById("scan-reasons");
  if (rs) R = JSON.parse(rs.textContent || "{}");
  var E = {};
  var es = document.getElementById("scan-errors");
  if (es) E = JSON.parse(es.textContent || "{}");
  var KEY = "healthcode.scanner.key";
  var COUNT = "healthcode.scanner.count";
  var $ = function (id) { return document.getElementById(id); };
  function t(k, arg) {
    var s = S[k] || k;
    return arg === undefined ? s : s.replace("%s", arg);
  }
  function store(k, v) { try { if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch (e) {} }
  function load(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }

  // Today's count is per device and per local day.
  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }
  function count() {
    var c = {};
    try { c = JSON.parse(load(COUNT) || "{}"); } catch (e) {}
    return c.day === today() ? c.n : 0;
  }
  function bump() {
    var n = count() + 1;
    store(COUNT, JSON.stringify({ day: today(), n: n }));
    $("today-count").textContent = n;
  }

  // The device says which checkpoint it stands for, so a tablet signed in
  // with another checkpoint's key is seen at once.
  function where() {
    var el = $("checkpoint-name");
    el.textContent = "";
    fetch("/api/v1/verify/checkpoint", {
      headers: { "Authorization": "Bearer " + load(KEY) }, credentials: "omit", cache: "no-store"
    }).then(function (res) { return res.ok ? res.json() : null; }).then(function (c) {
      if (c && c.name) {
        el.textContent = c.name + (c.region_name ? " · " + c.region_name : "");
        el.title = t("checkpoint");
      }
    }, function () {});
  }

  function show() {
    var key = load(KEY);
    $("signin").hidden = !!key;
    $("scanner").hidden = !key;
    if (key) {
      $("today-count").textContent = count();
      where();
      $("code-input").focus();
    } else {
      $("api-key").focus();
    }
  }

  function post(path, body, key) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + (key || load(KEY)) },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) { return { status: res.status, body: j }; });
    });
  }

  // Sign in: a verify call with no code answers code_missing for a good
  // key and 401/403 for a bad one, and records nothing.
  $("signin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    signin($("api-key").value.trim());
  });
  function signin(key) {
    var err = $("signin-error");
    if (!key) { err.textContent = t("key_needed"); err.hidden = false; return; }
    post("/api/v1/verify", { code: "" }, key).then(function (r) {
      if (r.status === 400) {
        store(KEY, key);
        $("api-key").value = "";
        err.hidden = true;
        show();
      } else {
        err.textContent = t("key_invalid");
        err.hidden = false;
        show();
      }
    }, function () { err.textContent = t("offline"); err.hidden = false; });
  }

  $("signout").addEventListener("click", function () {
    store(KEY, null);
    stopCamera();
    show();
  });

  // One beep per result: high and short to pass, low and long otherwise.
  var audio;
  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = ok ? 1320 : 330;
      o.type = ok ? "sine" : "square";
      g.gain.value = 0.15;
      o.connect(g); g.connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + (ok ? 0.15 : 0.6));
    } catch (e) {}
    if (navigator.vibrate) navigator.vibrate(ok ? 60 : [200, 100, 200]);
  }

  function showResult(cls, word, name, detail) {
    var out = $("result");
    out.className = "result " + cls;
    void out.offsetWidth; // restart the animation
    out.classList.add("pulse");
    out.setAttribute("data-state", cls);
    $("result-word").textContent = word;
    $("result-name").textContent = name || "";
    $("result-detail").textContent = detail || "";
  }

  function reasonText(r) { return R[r] || r; }

  // Times in the deployment's zone, whatever the tablet's zone is.
  var offset = Number($("scanner").getAttribute("data-offset")) || 0;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(ms) {
    var d = new Date(ms + offset * 60000);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function render(r) {
    if (r.status === 401 || r.status === 403) {
      showResult("invalid", t("key_invalid"), "", "");
      beep(false);
      return;
    }
    if (r.status !== 200) {
      var e = r.body && r.body.error || {};
      var msg = e.code === "temperature_out_of_range" ? t("temp_invalid") : (R[e.code] || E[e.code] || t("error"));
      showResult("invalid", t("error"), "", msg);
      beep(false);
      return;
    }
    var b = r.body;
    var reasons = (b.reasons || []).map(reasonText).join("；");
    // Today's count is of people checked: an unreadable or forged code is
    // nobody.
    if (b.valid) bump();
    if (!b.valid) {
      showResult("invalid", t("invalid"), b.masked_name || "", reasons);
      beep(false);
      return;
    }
    var fever = (b.reasons || []).indexOf("fever") >= 0;
    var word = fever ? t("fever") : t(b.color || "invalid");
    var detail = reasons;
    if (b.admitted) {
      detail = b.kind === "care" ? t("care") : b.kind === "id" ? t("by_id") : "";
      if (b.expires_at && b.kind !== "id") {
        detail += (detail ? " · " : "") + t("valid_until", clock(Date.parse(b.expires_at)));
      }
    }
    showResult(fever ? "red" : b.color, word, b.masked_name || "", detail);
    beep(!!b.admitted);
  }

  function temperature() {
    var v = $("temp-input").value.trim().replace(",", ".");
    if (!v) return undefined;
    var n = Number(v);
    return isNaN(n) ? NaN : n;
  }

  function verify(codeText) {
    var body = { code: codeText };
    var temp = temperature();
    if (temp !== undefined) {
      if (isNaN(temp)) { showResult("invalid", t("error"), "", t("temp_invalid")); beep(false); return; }
      body.temperature = temp;
    }
    showResult("checking", t("checking"), "", "");
    return post("/api/v1/verify", body).then(render, function () {
      showResult("invalid", t("error"), "", t("offline"));
      beep(false);
    });
  }

  // A scanner gun types the code and presses Enter: the form submits.
  $("scan-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("code-input");
    var v = input.value.replace(/[\r\n]+$/, "");
    input.value = "";
    if (v) verify(v);
    $("temp-input").value = "";
    input.focus();
  });

  $("id-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { id_type: $("id-type").value, id_number: $("id-number").value.trim() };
    var temp = temperature();
    if (temp !== undefined && !isNaN(temp)) body.temperature = temp;
    showResult("checking", t("checking"), "", "");
    // The number leaves its field whatever the answer: a refused one must
    // not stand under the next person's result.
    $("id-number").value = "";
    post("/api/v1/verify/id", body).then(function (r) {
      if (r.status === 404) { showResult("invalid", t("not_found"), "", ""); beep(false); return; }
      render(r);
    }, function () { showResult("invalid", t("error"), "", t("offline")); beep(false); });
  });

  // Camera scanning where the browser has BarcodeDetector.
  var stream = null, timer = null, last = "", lastAt = 0;
  function stopCamera() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (tr) { tr.stop(); }); stream = null; }
    $("camera").hidden = true;
    var btn = $("camera-btn");
    if (btn.getAttribute("data-label")) btn.textContent = btn.getAttribute("data-label");
  }
  if ("BarcodeDetector" in window && navigator.mediaDevices) {
    var btn = $("camera-btn");
    btn.setAttribute("data-label", btn.textContent);
    btn.hidden = false;
    btn.addEventListener("click", function () {
      if (stream) { stopCamera(); return; }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
        stream = s;
        var v = $("camera");
        v.srcObject = s;
        v.hidden = false;
        v.play();
        btn.textContent = t("camera_stop");
        timer = setInterval(function () {
          detector.detect(v).then(function (codes) {
            if (!codes.length) return;
            var text = codes[0].rawValue, now = Date.now();
            // The same code stays in view: check it once every few seconds.
            if (text === last && now - lastAt < 4000) return;
            last = text; lastAt = now;
            verify(text);
          }).catch(function () {});
        }, 250);
      }, function () { showResult("invalid", t("camera_failed"), "", ""); });
    });
  }

  function net() {
    $("net-status").textContent = navigator.onLine ? t("online") : t("net_offline");
    $("net-status").className = "scan-status " + (navigator.onLine ? "yes" : "no");
  }
  window.addEventListener("online", net);
  window.addEventListener("offline", net);
  net();
  // A QR from the console opens /scan#key=…: the fragment never reaches a
  // server; it signs in and leaves the address bar at once.
  var m = /^#key=([A-Za-z0-9_\-]+)$/.exec(location.hash);
  if (m) {
    history.replaceState(null, "", location.pathname + location.search);
    signin(m[1]);
  }
  show();
})();
