// callgate dashboard: confirmation before destructive forms, local-time
// tooltips on UTC timestamps, and reloading a page while a call is
// dialing (body data-refresh, in seconds; the server sets it only then).
// Everything works without it.
"use strict";
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  var re = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/;
  document.querySelectorAll("td, dd").forEach(function (el) {
    if (el.children.length > 1) { return; }
    var text = el.textContent.trim();
    var m = re.exec(text);
    if (m) {
      var d = new Date(m[1] + "T" + m[2] + "Z");
      if (!isNaN(d)) { el.title = d.toLocaleString() + " (your time)"; }
    }
  });
});

document.addEventListener("DOMContentLoaded", function () {
  var secs = parseInt(document.body.getAttribute("data-refresh") || "", 10);
  if (!(secs > 0)) { return; }
  var timer;
  var typing = function () {
    var el = document.activeElement;
    return el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  };
  var schedule = function () {
    timer = window.setTimeout(function () {
      if (typing()) { schedule(); return; } // do not lose what is being typed
      window.location.reload();
    }, secs * 1000);
  };
  schedule();
  var stop = document.getElementById("stop-refresh");
  if (stop) {
    stop.addEventListener("click", function () {
      window.clearTimeout(timer);
      document.body.removeAttribute("data-refresh");
      var note = document.getElementById("auto-refresh");
      if (note) { note.firstElementChild.textContent = "Reloading stopped: reload the page to see new outcomes."; }
      stop.remove();
    });
  }
});
