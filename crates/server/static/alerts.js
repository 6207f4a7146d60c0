// The alert banner, kept current by Server-Sent Events: the server sends the banner's items
// when an alert opens, grows, escalates or is dismissed. Without this script the banner is
// the same on the next page load.
(function () {
  "use strict";
  var banner = document.getElementById("alert-banner");
  if (!banner || !window.EventSource) { return; }
  var url = banner.getAttribute("data-live");
  if (!url) { return; }
  var source = new EventSource(url);
  source.addEventListener("alerts", function (event) {
    if (banner.innerHTML.trim() === event.data.trim()) { return; }
    banner.innerHTML = event.data;
  });
})();
