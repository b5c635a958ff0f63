using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Portal.IdpEmulator;

/// <summary>The mailbox: every message the mail sink received, newest first, with its body and its links clickable.</summary>
internal static partial class MailboxPages
{
    public static void Map(WebApplication app, EmulatorState state)
    {
        app.MapGet("/mailbox", () =>
        {
            var messages = state.Mailbox.Messages;
            var body = new StringBuilder("<p><a href=\"/phone\">Caller phones</a></p><h1>Mailbox</h1>");
            body.Append("<p class=\"muted\">What the demo organisations' mail relay received: the recovery notices sent to callers after a recovery.</p>");
            if (messages.Count == 0)
            {
                body.Append("<p class=\"muted\" data-field=\"mailbox-empty\">No message yet.</p>");
            }

            foreach (var mail in messages.Reverse())
            {
                body.Append("<article class=\"card\" data-field=\"mail\"><h2>").Append(Html.E(mail.Subject)).Append("</h2>");
                body.Append("<p class=\"muted\">To ").Append(Html.E(string.Join(", ", mail.To))).Append(" · from ").Append(Html.E(mail.From))
                    .Append(" · ").Append(Html.E(mail.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture))).Append("</p>");
                body.Append("<pre class=\"mail\">").Append(Linked(mail.TextBody)).Append("</pre></article>");
            }

            return Html.Result(Html.Page("Mailbox", body.ToString()));
        });
    }

    /// <summary>The body, encoded, with each http(s) URL made a link.</summary>
    private static string Linked(string text)
    {
        var html = new StringBuilder();
        var at = 0;
        foreach (Match url in UrlPattern().Matches(text))
        {
            html.Append(Html.E(text[at..url.Index]));
            html.Append("<a href=\"").Append(Html.E(url.Value)).Append("\">").Append(Html.E(url.Value)).Append("</a>");
            at = url.Index + url.Length;
        }

        return html.Append(Html.E(text[at..])).ToString();
    }

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex UrlPattern();
}
