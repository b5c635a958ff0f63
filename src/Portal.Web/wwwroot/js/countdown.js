// Shows the time left (a relative "4:58 left", not a clock time in another zone). The server enforces the expiry;
// this only informs the agent. Screen readers hear it twice, not every second: at one minute left and at expiry.
(function () {
    "use strict";
    var root = document.querySelector(".countdown[data-expires]");
    if (!root) { return; }
    var expires = Date.parse(root.getAttribute("data-expires"));
    var out = root.querySelector(".remaining");
    var alert = root.querySelector(".countdown-alert");
    var warned = false;
    function say(text) {
        if (alert) { alert.textContent = text; }
    }
    function tick() {
        var left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
        var minutes = Math.floor(left / 60);
        var seconds = left % 60;
        out.textContent = left > 0 ? "(" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + " left)" : "(expired)";
        if (left > 0 && left <= 60 && !warned) {
            warned = true;
            root.classList.add("ending");
            say(root.getAttribute("data-warning") || "One minute left.");
        }
        if (left > 0) { window.setTimeout(tick, 1000); }
        else {
            say(root.getAttribute("data-expired") || "Expired.");
            document.querySelectorAll(".actions button").forEach(function (b) { b.disabled = true; });
        }
    }
    tick();
}());
