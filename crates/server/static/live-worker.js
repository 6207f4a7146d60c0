// The desk's one live connection per browser, shared by its tabs: a shared worker holds the
// Server-Sent Events stream of /live and passes each event to every page connected to it.
// A page lets go of it on pagehide (a page kept by the back/forward cache holds nothing) and
// takes it again on pageshow; when no page is connected the stream is closed. Nothing is
// replayed to a page that connects later: it was drawn with what is current, and the newest
// post's number comes with the next post.
"use strict";
var ports = [];
var source = null;

function send(message) {
  for (var i = 0; i < ports.length; i += 1) { ports[i].postMessage(message); }
}

function open() {
  source = new EventSource("/live");
  ["posts", "alerts", "counts"].forEach(function (kind) {
    source.addEventListener(kind, function (event) {
      send({ kind: kind, data: event.data, id: event.lastEventId });
    });
  });
}

function close() {
  if (source) { source.close(); }
  source = null;
}

self.onconnect = function (connected) {
  var port = connected.ports[0];
  ports.push(port);
  port.onmessage = function (message) {
    if (message.data === "bye") {
      ports = ports.filter(function (p) { return p !== port; });
      port.close();
      if (ports.length === 0) { close(); }
    }
  };
  port.start();
  if (!source) { open(); }
};
