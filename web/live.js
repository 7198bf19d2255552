// samsa blog - live updates through Server-Sent Events (/api/events). The pages work without
// this file; it only saves the reloads: new posts appear in the feed, verdicts and scores
// replace "queued", and the queue statistics tick. All text goes in through textContent.
(function () {
  "use strict";
  var i18n = {};
  try { i18n = JSON.parse(document.body.getAttribute("data-i18n") || "{}"); } catch (e) { i18n = {}; }
  function t(key, fallback) { return i18n[key] || fallback; }
  function lang() { return document.body.getAttribute("data-lang") || "en"; }

  // One click sends one form; the one-time token guards the server side as well.
  var form = document.getElementById("post-form");
  if (form) form.addEventListener("submit", function () {
    var b = form.querySelector("button[type=submit]");
    if (b) setTimeout(function () { b.disabled = true; }, 0);
  });

  function setStatus(root, post) {
    var badge = root.querySelector("[data-role=status]");
    if (badge && post.status) {
      badge.className = "badge status-" + post.status;
      badge.textContent = t("status_" + post.status, post.status);
    }
    var score = root.querySelector("[data-role=score]");
    if (score) {
      score.textContent = "";
      if (typeof post.score === "number") {
        score.appendChild(document.createTextNode(t("score", "Score") + " "));
        var b = document.createElement("b");
        b.textContent = String(Math.round(post.score));
        score.appendChild(b);
      }
    }
    var reasons = root.querySelector("[data-role=reasons]");
    if (reasons && Array.isArray(post.reasons)) {
      reasons.textContent = "";
      post.reasons.forEach(function (r) {
        var text = typeof r === "string" ? r : r && (r.message || r.text || r.code);
        if (!text) return;
        var li = document.createElement("li");
        li.textContent = text;
        reasons.appendChild(li);
      });
    }
    var hint = root.querySelector("[data-role=hint]");
    if (hint) hint.hidden = !!post.status && post.status !== "queued";
    root.setAttribute("data-status", post.status || "");
  }

  function card(post) {
    var li = document.createElement("li");
    li.className = "post";
    li.setAttribute("data-id", post.id);
    var head = document.createElement("div");
    head.className = "post-head";
    var a = document.createElement("a");
    a.className = "post-title";
    a.href = "/posts/" + encodeURIComponent(post.id) + "?lang=" + lang();
    a.textContent = post.title || "";
    var badge = document.createElement("span");
    badge.setAttribute("data-role", "status");
    var score = document.createElement("span");
    score.className = "score";
    score.setAttribute("data-role", "score");
    head.appendChild(a);
    head.appendChild(badge);
    head.appendChild(document.createTextNode(" "));
    head.appendChild(score);
    var meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = (post.author || t("anonymous", "Anonymous")) + " · ";
    var time = document.createElement("time");
    var at = post.submitted_at || "";
    time.setAttribute("datetime", at);
    time.textContent = /^\d{4}-\d\d-\d\dT\d\d:\d\d.*Z$/.test(at) ? at.slice(0, 10) + " " + at.slice(11, 16) + " UTC" : at;
    meta.appendChild(time);
    li.appendChild(head);
    li.appendChild(meta);
    setStatus(li, post);
    return li;
  }

  function onPost(post) {
    var feed = document.getElementById("feed");
    if (feed && !feed.querySelector('[data-id="' + post.id + '"]')) {
      // newest first: ids are ULIDs, so they sort by time as strings
      var before = null;
      for (var n = feed.firstElementChild; n; n = n.nextElementSibling)
        if ((n.getAttribute("data-id") || "") < post.id) { before = n; break; }
      feed.insertBefore(card(post), before);
      while (feed.children.length > 50) feed.removeChild(feed.lastElementChild);
      var empty = document.getElementById("feed-empty");
      if (empty) empty.hidden = true;
    }
    onStatus(post);
  }

  function onStatus(post) {
    var nodes = document.querySelectorAll('[data-id="' + post.id + '"]');
    for (var i = 0; i < nodes.length; i++) setStatus(nodes[i], post);
  }

  function onStats(s) {
    ["queued", "processed", "published", "rejected", "lag", "workers"].forEach(function (k) {
      var el = document.getElementById("stat-" + k);
      if (el) el.textContent = s[k] === null || s[k] === undefined ? "—" : String(s[k]);
    });
  }

  function refreshPostPage() {
    // a verdict may have come between rendering the page and opening the stream
    var page = document.querySelector("article.post-page[data-id]");
    if (!page) return;
    fetch("/api/posts/" + encodeURIComponent(page.getAttribute("data-id")), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (p) onStatus(p); })
      .catch(function () {});
  }

  if (!window.EventSource) return;
  var live = document.getElementById("live");
  var es = new EventSource("/api/events");
  function parse(ev) { try { return JSON.parse(ev.data); } catch (e) { return null; } }
  es.addEventListener("open", function () { if (live) live.hidden = false; refreshPostPage(); });
  es.addEventListener("error", function () { if (live) live.hidden = true; });
  es.addEventListener("post", function (ev) { var p = parse(ev); if (p) onPost(p); });
  es.addEventListener("status", function (ev) { var p = parse(ev); if (p) onStatus(p); });
  es.addEventListener("stats", function (ev) { var s = parse(ev); if (s) onStats(s); });
})();
