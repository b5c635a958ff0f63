using System.Text;
using System.Text.Encodings.Web;

namespace Portal.IdpEmulator;

/// <summary>Pages as strings. Every dynamic value goes through <see cref="E"/>, so that a crafted login or state cannot inject markup.</summary>
internal static class Html
{
    public const string Css = """
        body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:44rem;padding:0 1rem;color:#1b1b1b;background:#fafafa}
        h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.5rem}
        ul{list-style:none;padding:0}li{margin:.4rem 0}
        .card{background:#fff;border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:.75rem 0}
        .preselected{border:2px solid #0b5cad}
        button{font-size:1rem;padding:.5rem 1rem;margin:.25rem;border-radius:.4rem;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
        button.secondary{background:#fff;color:#0b5cad}
        button.number{font-size:1.6rem;min-width:4rem}
        .code{font-family:ui-monospace,monospace;font-size:2rem;letter-spacing:.2rem}
        .muted{color:#555}
        pre.mail{white-space:pre-wrap;word-break:break-word;font-family:inherit}
        a{color:#0b5cad}
        """;

    public static string E(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    public static string Page(string title, string body, bool refresh = false)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        if (refresh)
        {
            html.Append("<meta http-equiv=\"refresh\" content=\"3\">");
        }

        html.Append("<title>").Append(E(title)).Append("</title>");
        html.Append("<link rel=\"stylesheet\" href=\"/emulator.css\"></head><body><main>");
        html.Append(body);
        html.Append("</main></body></html>");
        return html.ToString();
    }

    public static IResult Result(string page, int status = 200) => Results.Content(page, "text/html; charset=utf-8", Encoding.UTF8, status);

    public static string Hidden(string name, string? value) =>
        $"<input type=\"hidden\" name=\"{E(name)}\" value=\"{E(value)}\">";
}
