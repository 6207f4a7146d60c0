// Progressive enhancement of the live stream: new posts arrive by Server-Sent Events and are
// put at the top of the list. Without this script the page works the same, by reloading.
(function () {
  "use strict";
  var list = document.getElementById("posts");
  if (!list || !window.EventSource) { return; }
  var url = list.getAttribute("data-live");
  if (!url) { return; }
  var status = document.getElementById("live-status");
  var arrived = 0;
  var source = new EventSource(url);
  source.addEventListener("post", function (event) {
    var holder = document.createElement("ol");
    holder.innerHTML = event.data;
    var item = holder.firstElementChild;
    if (!item) { return; }
    var id = item.getAttribute("data-id");
    if (id && list.querySelector('[data-id="' + CSS.escape(id) + '"]')) { return; }
    item.classList.add("post--new");
    list.insertBefore(item, list.firstElementChild);
    arrived += 1;
    if (status) {
      status.textContent = arrived === 1 ? "1 new post arrived." : arrived + " new posts arrived.";
    }
  });
})();
