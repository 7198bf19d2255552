// samsa blog - live updates through Server-Sent Events (/api/events). The pages work without
// this file; it only saves the reloads: new posts appear in the feed, verdicts replace "queued",
// the queue statistics follow every event, and times show in the reader's own time zone (UTC
// stays in the tooltip). All text goes in through textContent; the only HTML taken as HTML is
// this server's own page, fetched again when a verdict arrives, so the reasons read exactly as the
// server words them in the page's language.
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

  function localTime(el) {
    var d = new Date(el.getAttribute("datetime") || "");
    if (isNaN(d.getTime())) return;
    try {
      el.textContent = d.toLocaleString(lang(), { year: "numeric", month: "short", day: "numeric",
                                                   hour: "2-digit", minute: "2-digit" });
    } catch (e) { return; }
    el.classList.add("local");
  }
  function localTimes(root) {
    var els = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < els.length; i++) localTime(els[i]);
  }

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
    var utc = /^\d{4}-\d\d-\d\dT\d\d:\d\d.*Z$/.test(at) ? at.slice(0, 10) + " " + at.slice(11, 16) + " UTC" : at;
    time.textContent = utc;
    time.title = utc;
    localTime(time);
    meta.appendChild(time);
    li.appendChild(head);
    li.appendChild(meta);
    if (post.excerpt) {
      var p = document.createElement("p");
      p.className = "excerpt";
      p.textContent = post.excerpt;
      li.appendChild(p);
    }
    setStatus(li, post);
    return li;
  }

  function publicFeed() {
    var feed = document.getElementById("feed");
    return feed && !feed.hasAttribute("data-static") ? feed : null;
  }

  function onPost(post) {
    var feed = publicFeed(); // search results, older pages and the rejected list stay as they are
    if (feed && post.status !== "rejected" && !feed.querySelector('[data-id="' + post.id + '"]')) {
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

  // The post's own page again, from the server, in place: verdict, reasons, notice.
  var refreshing = false;
  function refreshPostPage() {
    if (refreshing) return;
    refreshing = true;
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        refreshing = false;
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        var main = document.querySelector("main");
        if (!fresh || !main) return;
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes).map(function (n) {
          return document.importNode(n, true);
        }));
        localTimes(main);
      })
      .catch(function () { refreshing = false; });
  }

  function onStatus(post) {
    var nodes = document.querySelectorAll('#feed [data-id="' + post.id + '"]');
    for (var i = 0; i < nodes.length; i++) {
      if (post.status === "rejected" && publicFeed()) nodes[i].remove(); // rejected posts leave the feed
      else setStatus(nodes[i], post);
    }
    var page = document.querySelector('article.post-page[data-id="' + post.id + '"]');
    if (page && post.status && post.status !== "queued" && page.getAttribute("data-status") !== post.status) {
      page.setAttribute("data-status", post.status);
      refreshPostPage();
    }
  }

  var brokerDown = false;
  function setLive(state) { // "live", "offline", "broker_down"
    var live = document.getElementById("live");
    if (!live) return;
    live.hidden = false;
    live.className = "live " + state;
    live.textContent = t(state, state);
  }

  function onStats(s) {
    ["queued", "processed", "published", "review", "rejected", "lag", "workers"].forEach(function (k) {
      var el = document.getElementById("stat-" + k);
      if (el) el.textContent = s[k] === null || s[k] === undefined ? "—" : String(s[k]);
    });
    var tile = document.getElementById("tile-workers");
    if (tile) tile.classList.toggle("alert", s.workers === 0);
    brokerDown = s.broker === "unreachable";
    var warning = document.getElementById("stats-warning");
    if (warning) warning.hidden = !brokerDown;
    setLive(brokerDown ? "broker_down" : "live");
    var hint = document.querySelector("article.post-page [data-role=hint]");
    if (hint && !hint.hidden) {
      var none = s.workers === 0;
      hint.textContent = none ? t("no_worker", hint.textContent) : t("pending", hint.textContent);
      hint.classList.toggle("warn", none);
    }
  }

  localTimes(document);
  if (!window.EventSource) return;
  var es = new EventSource("/api/events");
  function parse(ev) { try { return JSON.parse(ev.data); } catch (e) { return null; } }
  es.addEventListener("open", function () {
    setLive(brokerDown ? "broker_down" : "live");
    // a verdict may have come between rendering the page and opening the stream
    var page = document.querySelector("article.post-page[data-id]");
    if (page && page.getAttribute("data-status") === "queued")
      fetch("/api/posts/" + encodeURIComponent(page.getAttribute("data-id")), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) { if (p) onStatus(p); })
        .catch(function () {});
  });
  es.addEventListener("error", function () {
    setLive("offline"); // the numbers cannot be vouched for until the stream is back
    ["lag", "workers"].forEach(function (k) {
      var el = document.getElementById("stat-" + k);
      if (el) el.textContent = "—";
    });
  });
  es.addEventListener("post", function (ev) { var p = parse(ev); if (p) onPost(p); });
  es.addEventListener("status", function (ev) { var p = parse(ev); if (p) onStatus(p); });
  es.addEventListener("stats", function (ev) { var s = parse(ev); if (s) onStats(s); });
})();
