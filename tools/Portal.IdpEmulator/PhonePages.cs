using System.Globalization;
using System.Text;

namespace Portal.IdpEmulator;

/// <summary>The caller's phone: pushes with their three numbers, "Not me", and live TOTP codes.</summary>
internal static class PhonePages
{
    public static void Map(WebApplication app, EmulatorState state)
    {
        app.MapGet("/phone", () =>
        {
            var body = new StringBuilder("<h1>Caller phones</h1><p class=\"muted\">Open a caller's phone to answer pushes and read TOTP codes.</p><ul>");
            foreach (var caller in state.Callers)
            {
                body.Append("<li class=\"card\"><a href=\"/phone/").Append(Html.E(Uri.EscapeDataString(caller.Login))).Append("\">")
                    .Append(Html.E(caller.FirstName + " " + caller.LastName)).Append("</a> <span class=\"muted\">")
                    .Append(Html.E(caller.Login)).Append(" · ").Append(Html.E(caller.Status)).Append("</span></li>");
            }

            body.Append("</ul><h2>Entra directory</h2><ul>");
            foreach (var user in state.EntraUsers)
            {
                body.Append("<li class=\"card\"><a href=\"/phone/").Append(Html.E(Uri.EscapeDataString(user.UserPrincipalName))).Append("\">")
                    .Append(Html.E(user.DisplayName)).Append("</a> <span class=\"muted\">")
                    .Append(Html.E(user.UserPrincipalName)).Append("</span></li>");
            }

            body.Append("</ul><p class=\"muted\"><a href=\"/admin\">IdP administrator console</a>: act on a user outside the portal, as reconciliation must catch.</p>");
            return Html.Result(Html.Page("Caller phones", body.ToString()));
        });

        app.MapGet("/phone/{login}", (string login) =>
        {
            var caller = state.FindCaller(login);
            if (caller is null && state.FindEntraUser(login) is { } entraUser)
            {
                return Html.Result(Html.Page("Caller phone", EntraPhone(state, entraUser), refresh: true));
            }

            if (caller is null)
            {
                return Html.Result(Html.Page("No such caller", "<h1>No such caller</h1><p><a href=\"/phone\">All phones</a></p>"), 404);
            }

            var now = state.Now;
            var body = new StringBuilder();
            body.Append("<p><a href=\"/phone\">All phones</a></p><h1>Phone of ").Append(Html.E(caller.FirstName + " " + caller.LastName)).Append("</h1>");
            body.Append("<p class=\"muted\">").Append(Html.E(caller.Login)).Append("</p>");

            body.Append("<h2>Okta Verify</h2>");
            var pushes = state.PendingPushes(caller.Login);
            if (pushes.Count == 0)
            {
                body.Append("<p class=\"muted\">No sign-in request waiting.</p>");
            }

            foreach (var push in pushes)
            {
                var action = "/phone/push/" + Uri.EscapeDataString(push.TransactionId);
                var left = (int)Math.Max(0, (push.ExpiresAt - now).TotalSeconds);
                body.Append("<div class=\"card\"><p>Are you trying to sign in? Tap the number shown to the helpdesk agent.</p>");
                body.Append("<form method=\"post\" action=\"").Append(Html.E(action + "/answer")).Append("\">");
                foreach (var number in push.Choices)
                {
                    var text = number.ToString(CultureInfo.InvariantCulture);
                    body.Append("<button class=\"number\" type=\"submit\" name=\"number\" value=\"").Append(Html.E(text)).Append("\">")
                        .Append(Html.E(text)).Append("</button>");
                }

                body.Append("</form><form method=\"post\" action=\"").Append(Html.E(action + "/deny")).Append("\">")
                    .Append("<button class=\"secondary\" type=\"submit\">Not me</button></form>");
                body.Append("<p class=\"muted\">Expires in ").Append(left.ToString(CultureInfo.InvariantCulture)).Append(" s</p></div>");
            }

            body.Append("<h2>Authenticator codes</h2>");
            var totps = caller.Factors.Where(f => f.FactorType == EmulatorState.TotpType && f.Status == "ACTIVE" && f.Secret is not null).ToList();
            if (totps.Count == 0)
            {
                body.Append("<p class=\"muted\">No authenticator app enrolled.</p>");
            }

            var secondsLeft = Totp.StepSeconds - (int)(now.ToUnixTimeSeconds() % Totp.StepSeconds);
            foreach (var factor in totps)
            {
                body.Append("<div class=\"card\"><div>").Append(Html.E(factor.Provider == "GOOGLE" ? "Google Authenticator" : "Okta Verify")).Append("</div>");
                body.Append("<div class=\"code\">").Append(Html.E(Totp.ComputeAt(factor.Secret!, now))).Append("</div>");
                body.Append("<div class=\"muted\">").Append(secondsLeft.ToString(CultureInfo.InvariantCulture)).Append(" s left</div></div>");
            }

            // What the organisation's ID verification vendor (Persona, CLEAR, Incode) does when an Okta account
            // management policy sends the caller to it: the emulator records only the result Okta would log.
            body.Append("<h2>ID verification</h2><div class=\"card\" data-field=\"idv\"><p>Your organisation's identity verification: a photo ID and a selfie, checked by its vendor. In a real org the caller reaches it from the Okta sign-in page (Forgot password, or set up a new authenticator).</p>");
            body.Append("<form method=\"post\" action=\"/phone/").Append(Html.E(Uri.EscapeDataString(caller.Login))).Append("/idv\">")
                .Append("<button type=\"submit\" name=\"result\" value=\"pass\">Verify my ID (passes)</button> ")
                .Append("<button class=\"secondary\" type=\"submit\" name=\"result\" value=\"fail\">Verify my ID (fails)</button></form>");
            var last = state.AdminActivities.LastOrDefault(a => a.TargetId == caller.Id && a.Kind is AdminActivityKind.IdentityVerified or AdminActivityKind.IdentityNotVerified);
            if (last is not null)
            {
                body.Append("<p class=\"muted\" data-field=\"idv-last\">Last result: ").Append(last.Kind == AdminActivityKind.IdentityVerified ? "verified" : "not verified")
                    .Append(" at ").Append(Html.E(last.At.ToString("HH:mm:ss", CultureInfo.InvariantCulture))).Append(" UTC</p>");
            }

            body.Append("</div>");
            return Html.Result(Html.Page("Caller phone", body.ToString(), refresh: true));
        });

        app.MapPost("/phone/{login}/idv", async (HttpContext http, string login) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            if (state.FindCaller(login) is null || form["result"].ToString() is not ("pass" or "fail"))
            {
                return Results.BadRequest();
            }

            state.VerifyIdentity(login, passed: form["result"] == "pass");
            return BackTo(login);
        });

        app.MapPost("/phone/push/{txId}/answer", async (HttpContext http, string txId) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var login = LoginOf(state, txId);
            if (int.TryParse(form["number"], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                state.AnswerPush(txId, number);
            }

            return BackTo(login);
        });

        MfaConnectorPhone.Map(app, state);

        app.MapPost("/phone/push/{txId}/deny", (string txId) =>
        {
            var login = LoginOf(state, txId);
            state.DenyPush(txId);
            return BackTo(login);
        });
    }

    private static string EntraPhone(EmulatorState state, EntraUser user)
    {
        var now = state.Now;
        var body = new StringBuilder();
        body.Append("<p><a href=\"/phone\">All phones</a></p><h1>Phone of ").Append(Html.E(user.DisplayName)).Append("</h1>");
        body.Append("<p class=\"muted\">").Append(Html.E(user.UserPrincipalName)).Append("</p>");
        body.Append(MfaConnectorPhone.Pushes(state, user));
        body.Append("<h2>Microsoft Authenticator code</h2>");
        if (user.TotpSecret is null)
        {
            body.Append("<p class=\"muted\">No authenticator app enrolled.</p>");
            return body.ToString();
        }

        var secondsLeft = Totp.StepSeconds - (int)(now.ToUnixTimeSeconds() % Totp.StepSeconds);
        body.Append("<div class=\"card\"><div>Microsoft Authenticator</div>");
        body.Append("<div class=\"code\">").Append(Html.E(Totp.ComputeAt(user.TotpSecret, now))).Append("</div>");
        body.Append("<div class=\"muted\">").Append(secondsLeft.ToString(CultureInfo.InvariantCulture)).Append(" s left</div></div>");
        body.Append("<p class=\"muted\">Type this code at the sign-in page the helpdesk's step-up link opens.</p>");
        return body.ToString();
    }

    private static string? LoginOf(EmulatorState state, string txId) =>
        state.FindPush(txId) is { } push ? state.FindById(push.UserId)?.Login : null;

    private static IResult BackTo(string? login) =>
        Results.Redirect(login is null ? "/phone" : "/phone/" + Uri.EscapeDataString(login));
}
