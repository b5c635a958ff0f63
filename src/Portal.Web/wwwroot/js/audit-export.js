// Shows how far a long audit export has got, counting records as they stream in, then saves the file.
// External file: the CSP allows no inline script. Without script the form still posts and downloads.
(function () {
    "use strict";
    var form = document.getElementById("audit-export");
    if (!form || !window.fetch || !window.ReadableStream) { return; }
    var progress = document.getElementById(form.getAttribute("data-progress"));
    var button = form.querySelector("button[type='submit']");

    function fileName(response) {
        var disposition = response.headers.get("Content-Disposition") || "";
        var match = /filename="([^"]+)"/.exec(disposition);
        return match ? match[1] : "audit-export";
    }

    form.addEventListener("submit", function (event) {
        event.preventDefault();
        var csv = form.querySelector("[name='format']").value !== "ndjson";
        button.disabled = true;
        progress.textContent = "Starting the export…";
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
            .then(function (response) {
                if (!response.ok || !response.body) { throw new Error("status " + response.status); }
                var reader = response.body.getReader();
                var chunks = [];
                var lines = 0;
                var name = fileName(response);
                function pump() {
                    return reader.read().then(function (step) {
                        if (step.done) {
                            var records = csv ? Math.max(0, lines - 1) : lines;
                            var blob = new Blob(chunks, { type: response.headers.get("Content-Type") || "application/octet-stream" });
                            var link = document.createElement("a");
                            link.href = URL.createObjectURL(blob);
                            link.download = name;
                            document.body.appendChild(link);
                            link.click();
                            window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
                            progress.textContent = "Done: " + records.toLocaleString() + " records exported.";
                            return;
                        }
                        chunks.push(step.value);
                        for (var i = 0; i < step.value.length; i++) {
                            if (step.value[i] === 10) { lines++; }
                        }
                        var soFar = csv ? Math.max(0, lines - 1) : lines;
                        progress.textContent = "Exporting… " + soFar.toLocaleString() + " records so far.";
                        return pump();
                    });
                }
                return pump();
            })
            .catch(function () {
                progress.textContent = "The export failed. Try again, or narrow the filter.";
            })
            .then(function () { button.disabled = false; });
    });
}());
