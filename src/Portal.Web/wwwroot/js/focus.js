// After a navigation, moves the keyboard focus into the page so a screen reader says where the agent is: to the
// page's error (role="alert"), else to its heading (the first h1 in main). Given tabindex="-1", they take the focus
// without joining the Tab order; the next Tab goes on from there. Nothing moves when the page already asks for a
// field (autofocus, e.g. the console's lookup), when something has the focus already, or when the address names a
// place in the page (#...).
// A page that reloads itself (watch.js, push-status.js) leaves a marker first: that reload is not the agent's
// navigation, so the focus is left where the browser puts it. push-status.js moving on to another page is a
// navigation like any other and gets the focus here.
// External file: the CSP allows no inline script.
(function () {
    "use strict";
    var here = window.location.pathname + window.location.search;
    var marked = null;
    try {
        marked = window.sessionStorage.getItem("portal-self-reload");
        window.sessionStorage.removeItem("portal-self-reload");
    } catch (e) {
        // Storage refused by the browser: every load counts as the agent's own.
    }
    // Only a reload of this very page counts: a marker left over from an earlier one does not stop a later visit.
    var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    if (marked === here && (!navigation || navigation.type === "reload")) {
        return;
    }
    if (window.location.hash || document.querySelector("[autofocus]") || (document.activeElement && document.activeElement !== document.body)) {
        return;
    }
    var target = null;
    document.querySelectorAll("main [role='alert']").forEach(function (alert) {
        if (!target && alert.textContent.trim() !== "") { target = alert; }
    });
    target = target || document.querySelector("main h1");
    if (!target) {
        return;
    }
    if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
    }
    // The page stays where the browser put it (the top, or where Back left it).
    target.focus({ preventScroll: true });
}());
