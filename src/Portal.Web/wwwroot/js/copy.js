// "Copy" buttons: data-copy-from names the element whose text is copied (a one-time secret on its only view).
// External file: the CSP allows no inline script. Without a clipboard (plain http on another host), the text is
// selected instead so the agent can copy it by hand.
(function () {
    "use strict";
    document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
        var source = document.getElementById(button.getAttribute("data-copy-from"));
        var status = button.parentElement.querySelector("[data-field='copy-status']");
        if (!source) { return; }
        function say(text) { if (status) { status.textContent = text; } }
        function select() {
            var range = document.createRange();
            range.selectNodeContents(source);
            var selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            say("Selected: press Ctrl+C to copy.");
        }
        button.addEventListener("click", function () {
            var text = source.textContent.replace(/\s+/g, "");
            if (!navigator.clipboard || !window.isSecureContext) { select(); return; }
            navigator.clipboard.writeText(text).then(function () { say("Copied."); }, select);
        });
    });
}());
