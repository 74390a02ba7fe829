/* Fact cards (standing.py): hovering over, focusing or tapping a cited figure shows the
   evidence built into the page (a hidden .hb-card per fact). Without this script the
   figure stays a plain link to the fact register. No request leaves the page. */
(function () {
  "use strict";
  var SHOW_DELAY = 250, HIDE_DELAY = 300;
  var current = null; // {trigger, card}
  var showTimer = 0, hideTimer = 0, touch = false, wasOpen = false, quietFocus = false;

  function cardFor(a) {
    var id = a.hash ? decodeURIComponent(a.hash.slice(1)) : "";
    return id ? document.getElementById("hb-card-" + id) : null;
  }

  function place(a, card) {
    var r = a.getBoundingClientRect(), vw = document.documentElement.clientWidth;
    var vh = window.innerHeight, gap = 6;
    card.style.left = "0px";
    card.style.top = "0px";
    var w = card.offsetWidth, h = card.offsetHeight;
    var left = Math.max(8, Math.min(r.left, vw - w - 8));
    var top = r.bottom + gap;
    if (top + h > vh - 8 && r.top - gap - h >= 8) top = r.top - gap - h;
    card.style.left = left + "px";
    card.style.top = top + "px";
  }

  function show(a) {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (current && current.trigger === a) return;
    hide();
    var card = cardFor(a);
    if (!card) return;
    // right after the figure in the document: Tab moves from the figure into the card
    a.parentNode.insertBefore(card, a.nextSibling);
    card.hidden = false;
    a.setAttribute("aria-expanded", "true");
    current = {trigger: a, card: card};
    place(a, card);
  }

  function hide() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (!current) return;
    current.card.hidden = true;
    current.trigger.setAttribute("aria-expanded", "false");
    current = null;
  }

  function later(fn, ms) {
    return window.setTimeout(fn, ms);
  }

  function inside(node) {
    return !!(current && node && (current.card.contains(node) || current.trigger === node));
  }

  function init() {
    var links = document.querySelectorAll(".hb-fact > a[href*='#fact-']");
    Array.prototype.forEach.call(links, function (a) {
      var card = cardFor(a);
      if (!card) return;
      a.setAttribute("aria-haspopup", "dialog");
      a.setAttribute("aria-expanded", "false");
      a.setAttribute("aria-controls", card.id);
      a.setAttribute("aria-describedby", card.id);
      a.addEventListener("mouseenter", function () {
        clearTimeout(hideTimer);
        clearTimeout(showTimer);
        showTimer = later(function () { show(a); }, SHOW_DELAY);
      });
      a.addEventListener("mouseleave", function () {
        clearTimeout(showTimer);
        if (current && current.trigger === a) hideTimer = later(hide, HIDE_DELAY);
      });
      a.addEventListener("focus", function () {
        if (quietFocus) { quietFocus = false; return; }
        show(a);
      });
      a.addEventListener("pointerdown", function (ev) {
        touch = ev.pointerType === "touch";
        wasOpen = !!(current && current.trigger === a); // before the tap focuses the link
      });
      a.addEventListener("click", function (ev) {
        // a first tap shows the card; a second tap (or the card's link) follows the link
        if (touch && !wasOpen) {
          ev.preventDefault();
          show(a);
        }
        touch = false;
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".hb-card"), function (card) {
      card.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
      card.addEventListener("mouseleave", function () { hideTimer = later(hide, HIDE_DELAY); });
    });
    document.addEventListener("focusout", function (ev) {
      if (current && !inside(ev.relatedTarget)) {
        var was = current;
        hideTimer = later(function () { if (current === was) hide(); }, 0);
      }
    });
    document.addEventListener("focusin", function (ev) {
      if (current && inside(ev.target)) clearTimeout(hideTimer);
    });
    document.addEventListener("keydown", function (ev) {
      if ((ev.key === "Escape" || ev.key === "Esc") && current) {
        var a = current.trigger, back = current.card.contains(document.activeElement);
        hide();
        if (back) { quietFocus = true; a.focus(); }
        ev.stopPropagation();
      }
    });
    document.addEventListener("click", function (ev) {
      if (current && !inside(ev.target) && !current.trigger.contains(ev.target)) hide();
    });
    window.addEventListener("scroll", function () {
      if (current) place(current.trigger, current.card);
    }, {passive: true});
    window.addEventListener("resize", function () {
      if (current) place(current.trigger, current.card);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
