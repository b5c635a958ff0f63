// "Copy" buttons: data-copy-from names the element whose text is copied (a one-time secret on its only view, or
// the call summary).
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
            // A secret is copied without the spaces that group it; a summary (data-copy-as-is) exactly as shown.
            var text = button.hasAttribute("data-copy-as-is") ? source.textContent : source.textContent.replace(/\s+/g, "");
            if (!navigator.clipboard || !window.isSecureContext) { select(); return; }
            navigator.clipboard.writeText(text).then(function () { say("Copied."); }, select);
        });
    });
}());
