// Polls a pending push until the caller answers it, then moves on. External file: the CSP allows no inline script.
(function () {
    "use strict";
    var root = document.getElementById("push-status");
    if (!root || root.getAttribute("data-state") !== "Waiting") {
        return;
    }
    var tokenInput = root.querySelector("input[name='__RequestVerificationToken']");
    var stateText = root.querySelector("[data-field='state']");
    var labels = {
        Approved: "Approved. The caller is verified.",
        Rejected: "Rejected. Do not act on this account: the caller picked the wrong number or said it was not them. This was reported.",
        TimedOut: "Timed out. The caller did not answer in time."
    };
    function poll() {
        fetch(root.getAttribute("data-poll-url"), {
            method: "POST",
            credentials: "same-origin",
            headers: { "Accept": "application/json", "RequestVerificationToken": tokenInput ? tokenInput.value : "" }
        }).then(function (response) {
            var type = response.headers.get("Content-Type") || "";
            if (response.status >= 400 && response.status < 500 || (response.ok && type.indexOf("application/json") < 0)) {
                // Not ours any more (expired, signed out, not found): stop and let the server say why.
                window.location.reload();
                return null;
            }
            if (!response.ok) { throw new Error("status " + response.status); }
            return response.json();
        }).then(function (result) {
            if (result === null) { return; }
            if (result.state === "Waiting") {
                if (result.message) { stateText.textContent = result.message; }
                window.setTimeout(poll, 2000);
                return;
            }
            stateText.textContent = labels[result.state] || result.state;
            if (result.next) {
                window.location.assign(result.next);
            } else {
                window.location.reload();
            }
        }).catch(function () {
            window.setTimeout(poll, 4000);
        });
    }
    window.setTimeout(poll, 1500);
}());
