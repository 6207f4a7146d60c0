// The alert banner, kept current by Server-Sent Events: the server sends the banner's items
// when an alert opens, grows, escalates or is dismissed. Without this script the banner is
// the same on the next page load.
(function () {
  "use strict";
  var banner = document.getElementById("alert-banner");
  if (!banner || !window.EventSource) { return; }
  var url = banner.getAttribute("data-live");
  if (!url) { return; }
  // The items' signatures ("id:severity:count"), as the server names the banner in the
  // event id: an unchanged banner is not replaced, so screen readers do not hear it again.
  function signature() {
    var items = banner.querySelectorAll("[data-alert]");
    var parts = [];
    for (var i = 0; i < items.length; i += 1) { parts.push(items[i].getAttribute("data-alert")); }
    return parts.join(" ");
  }
  var source = new EventSource(url);
  source.addEventListener("alerts", function (event) {
    if (event.lastEventId === signature()) { return; }
    banner.innerHTML = event.data;
  });
})();
