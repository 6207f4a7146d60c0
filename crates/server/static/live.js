// The desk's live updates, on every page: new posts at the top of an open stream or Needs
// attention list, the alert line, and the navigation's counts, all from one connection per
// browser (static/live-worker.js, shared by every tab; where shared workers are missing, one
// connection per page). The connection is let go on pagehide and taken again on pageshow, so
// pages kept by the back/forward cache hold none. Without this script every page works the
// same, by reloading.
(function () {
  "use strict";
  var list = document.getElementById("posts");
  var live = list && list.getAttribute("data-live");
  var seq = live ? Number(list.getAttribute("data-seq") || "0") : 0;
  var status = document.getElementById("live-status");
  var banner = document.getElementById("alert-banner");
  var arrived = 0;
  var fetching = false;
  var wanted = 0;

  function addPosts(items) {
    for (var i = items.length - 1; i >= 0; i -= 1) {
      if (list.querySelector('[data-id="' + CSS.escape(items[i].id) + '"]')) { continue; }
      var holder = document.createElement("ol");
      holder.innerHTML = items[i].html;
      var item = holder.firstElementChild;
      if (!item) { continue; }
      item.classList.add("post--new");
      list.insertBefore(item, list.firstElementChild);
      arrived += 1;
    }
    if (status && arrived > 0) {
      status.textContent = arrived === 1 ? "1 new post arrived." : arrived + " new posts arrived.";
    }
  }

  // Fetches the posts after the newest this list has; one request at a time.
  function fetchPosts() {
    if (fetching || wanted <= seq || !window.fetch) { return; }
    fetching = true;
    fetch("/live/posts?" + live + "&after=" + seq, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        fetching = false;
        if (!page) { return; }
        seq = Math.max(seq, page.seq);
        addPosts(page.items);
        fetchPosts();
      })
      .catch(function () { fetching = false; });
  }

  // The alert line's signature, as the server names the line in the event id: an unchanged
  // line is not replaced, so screen readers do not hear it again.
  function signature() {
    var line = banner.querySelector("[data-alert]");
    return line ? line.getAttribute("data-alert") : "";
  }

  function receive(message) {
    if (message.kind === "posts" && live) {
      wanted = Math.max(wanted, Number(message.data));
      fetchPosts();
    } else if (message.kind === "alerts" && banner) {
      if (message.id !== signature()) { banner.innerHTML = message.data; }
    } else if (message.kind === "counts") {
      var counts = JSON.parse(message.data);
      var count = document.getElementById("approvals-count");
      if (count && count.firstChild) { count.firstChild.nodeValue = String(counts.approvals); }
    }
  }

  var worker = null;
  var source = null;

  function connect() {
    if (window.SharedWorker) {
      try {
        worker = new SharedWorker("/static/live-worker.js", { name: "switchboard-live" });
        worker.port.onmessage = function (event) { receive(event.data); };
        worker.port.start();
        return;
      } catch (e) {
        worker = null;
      }
    }
    if (!window.EventSource) { return; }
    source = new EventSource("/live");
    ["posts", "alerts", "counts"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        receive({ kind: kind, data: event.data, id: event.lastEventId });
      });
    });
  }

  function disconnect() {
    if (worker) {
      worker.port.postMessage("bye");
      worker.port.close();
      worker = null;
    }
    if (source) {
      source.close();
      source = null;
    }
  }

  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", function () {
    if (!worker && !source) { connect(); }
  });
  connect();
})();
