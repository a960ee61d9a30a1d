// callgate dashboard: confirmation before destructive forms, and
// local-time tooltips on UTC timestamps. Everything works without it.
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
