// Polls a pending push until the caller answers it, then moves on. External file: the CSP allows no inline script.
(function () {
    "use strict";
    var root = document.getElementById("push-status");
    if (!root || root.getAttribute("data-state") !== "Waiting") {
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
    var tokenInput = root.querySelector("input[name='__RequestVerificationToken']");
    var stateText = root.querySelector("[data-field='state']");
    var progressText = root.querySelector("[data-field='progress']");
    // A method whose answer the server reads from the IdP's log (an identity verification) asks less often.
    var every = (parseInt(root.getAttribute("data-poll-seconds"), 10) || 2) * 1000;
    function poll() {
        fetch(root.getAttribute("data-poll-url"), {
            method: "POST",
            credentials: "same-origin",
            headers: { "Accept": "application/json", "RequestVerificationToken": tokenInput ? tokenInput.value : "" }
        }).then(function (response) {
            var type = response.headers.get("Content-Type") || "";
            if (response.status >= 400 && response.status < 500 || (response.ok && type.indexOf("application/json") < 0)) {
                // Not ours any more (expired, signed out, not found): stop and let the server say why.
                reload();
                return null;
            }
            if (!response.ok) { throw new Error("status " + response.status); }
            return response.json();
        }).then(function (result) {
            if (result === null) { return; }
            if (result.state === "Waiting") {
                // Only a change is written: a live region re-announces whatever is written to it.
                var progress = result.message || "";
                if (progressText && progressText.textContent !== progress) { progressText.textContent = progress; }
                window.setTimeout(poll, every);
                return;
            }
            // The server's words for the outcome (and what to say), the same the reloaded page shows.
            stateText.textContent = result.label || result.state;
            if (result.next) {
                window.location.assign(result.next);
            } else {
                reload();
            }
        }).catch(function () {
            window.setTimeout(poll, every * 2);
        });
    }
    window.setTimeout(poll, Math.min(every, 1500));
}());
