// Reloads the page when what it shows has changed on the server: an element with data-watch-url (a JSON endpoint
// answering { "value": "..." }) and data-watch-value (the value this page was rendered with). The page itself is a
// GET (Post/Redirect/Get), so reloading it repeats nothing; the server's words for the new state come with it.
// External file: the CSP allows no inline script.
(function () {
    "use strict";
    var root = document.querySelector("[data-watch-url]");
    if (!root) {
        return;
    }
    // Tells focus.js that the next load is this page's own reload, not the agent's navigation.
    function reload() {
        try {
            window.sessionStorage.setItem("portal-self-reload", window.location.pathname + window.location.search);
        } catch (e) {
            // Storage refused by the browser: the reloaded page moves the focus as after any navigation.
        }
        window.location.reload();
    }
    var url = root.getAttribute("data-watch-url");
    var shown = root.getAttribute("data-watch-value");
    var every = parseInt(root.getAttribute("data-watch-seconds") || "3", 10) * 1000;
    function poll() {
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (response) {
            if (response.status === 429) {
                window.setTimeout(poll, every * 4);
                return null;
            }
            if (!response.ok) {
                // Gone, signed out or refused: the reloaded page says which.
                reload();
                return null;
            }
            return response.json();
        }).then(function (result) {
            if (result === null) { return; }
            if (result.value !== shown) {
                reload();
                return;
            }
            window.setTimeout(poll, every);
        }).catch(function () {
            window.setTimeout(poll, every * 2);
        });
    }
    window.setTimeout(poll, every);
}());
