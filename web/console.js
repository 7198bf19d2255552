// samsa console - the only script of the console's pages. Everything works without it; it adds
// the live tail (Server-Sent Events from /messages/tail) and shows times in the reader's zone.
// No inline script (the Content-Security-Policy forbids it): this file finds its elements by id.
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function pretty(s) {
    if (s === null) return null;
    var c = s.charAt(0);
    if (c === "{" || c === "[") {
      try { return JSON.stringify(JSON.parse(s), null, 2); } catch (e) { /* not JSON */ }
    }
    return s;
  }

  function cell(text, cls) {
    var td = el("td", cls);
    if (text === null) { td.appendChild(el("em", "", "null")); return td; }
    var pre = el("pre", "", text);
    td.appendChild(pre);
    return td;
  }

  function row(r) {
    var tr = el("tr", "record fresh");
    tr.dataset.partition = r.partition;
    tr.dataset.offset = r.offset;
    tr.appendChild(el("td", "num", String(r.partition)));
    tr.appendChild(el("td", "num", String(r.offset)));
    var td = el("td");
    var d = new Date(r.timestamp);
    var t = el("time", "", r.timestamp >= 0 ? d.toISOString().replace("T", " ").replace("Z", " UTC") : "—");
    if (r.timestamp >= 0) t.setAttribute("datetime", d.toISOString());
    td.appendChild(t);
    tr.appendChild(td);
    tr.appendChild(cell(r.key, "key"));
    tr.appendChild(cell(pretty(r.value), "value"));
    var h = el("td", "headers");
    if (r.headers && r.headers.length) {
      var dl = el("dl");
      r.headers.forEach(function (x) {
        dl.appendChild(el("dt", "", x.name));
        var dd = el("dd");
        dd.appendChild(el("pre", "", x.value === null ? "null" : x.value));
        dl.appendChild(dd);
      });
      h.appendChild(dl);
    }
    tr.appendChild(h);
    return tr;
  }

  function startTail(section) {
    var body = document.getElementById("records");
    var status = section.querySelector(".tail-status");
    var button = el("button", "secondary", section.dataset.start);
    button.type = "button";
    button.id = "tail-toggle";
    button.setAttribute("aria-pressed", "false");
    section.insertBefore(button, status);
    var source = null;
    button.addEventListener("click", function () {
      if (source) {
        source.close();
        source = null;
        button.textContent = section.dataset.start;
        button.setAttribute("aria-pressed", "false");
        status.textContent = "";
        return;
      }
      source = new EventSource(section.dataset.src);
      button.textContent = section.dataset.stop;
      button.setAttribute("aria-pressed", "true");
      status.textContent = section.dataset.waiting;
      source.addEventListener("message", function (ev) {
        var r = JSON.parse(ev.data);
        if (body) {
          body.insertBefore(row(r), body.firstChild);
          var empty = document.getElementById("no-messages");
          if (empty) empty.remove();
          while (body.children.length > 500) body.removeChild(body.lastChild);
        }
        status.textContent = "";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tail = document.getElementById("tail");
    if (tail && window.EventSource) startTail(tail);
  });
})();
