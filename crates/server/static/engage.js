// Progressive enhancement of the draft editor: the checks run as you type, by asking the
// server (the same checks run again when the form is submitted, so the page works without it).
(function () {
  "use strict";
  var form = document.getElementById("editor");
  var text = document.getElementById("text");
  var list = document.getElementById("checks");
  if (!form || !text || !list || !window.fetch) { return; }
  var url = form.getAttribute("data-check");
  var csrf = form.querySelector("input[name=csrf]").value;
  var button = document.getElementById("submit-draft");
  var reason = document.getElementById("send-reason");
  var timer = null;
  var asked = 0;
  function show(report) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    report.rows.forEach(function (row) {
      var item = document.createElement("li");
      item.className = "check check--" + row.status.replace(/ /g, "-");
      var head = document.createElement("strong");
      head.textContent = row.name + ": " + row.status + ".";
      item.appendChild(head);
      item.appendChild(document.createTextNode(" " + row.message));
      if (row.suggestion) {
        var hint = document.createElement("span");
        hint.className = "suggestion";
        hint.textContent = " Suggestion: " + row.suggestion;
        item.appendChild(hint);
      }
      list.appendChild(item);
    });
    if (button) {
      button.textContent = report.action;
      button.disabled = report.blocked;
    }
    if (reason) { reason.textContent = report.action_reason; }
    list.setAttribute("data-checked", text.value);
  }
  function check() {
    var mine = ++asked;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ text: text.value })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (report) {
      if (report && mine === asked) { show(report); }
    }).catch(function () {});
  }
  text.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 250);
  });
})();
