// Shows the time left in a verification. The server enforces the expiry; this only informs the agent.
(function () {
    "use strict";
    var root = document.querySelector(".countdown[data-expires]");
    if (!root) { return; }
    var expires = Date.parse(root.getAttribute("data-expires"));
    var out = root.querySelector(".remaining");
    function tick() {
        var left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
        var minutes = Math.floor(left / 60);
        var seconds = left % 60;
        out.textContent = left > 0 ? "(" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + " left)" : "(expired: verify again)";
        if (left > 0) { window.setTimeout(tick, 1000); }
        else {
            document.querySelectorAll(".actions button").forEach(function (b) { b.disabled = true; });
        }
    }
    tick();
}());
