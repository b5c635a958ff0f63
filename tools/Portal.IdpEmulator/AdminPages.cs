using System.Globalization;
using System.Text;

namespace Portal.IdpEmulator;

/// <summary>
/// The IdP administrator's console, reduced to what matters for reconciliation: pick a user and a helpdesk action
/// and do it as the Okta or Entra administrator, outside the portal. The IdP's audit log records it under the
/// administrator's name, which is what the portal's reconciliation must flag.
/// </summary>
internal static class AdminPages
{
    private static readonly (AdminAction Action, string Label)[] Actions =
    [
        (AdminAction.ResetPassword, "Reset password"),
        (AdminAction.ResetMfa, "Reset MFA"),
        (AdminAction.Unlock, "Unlock"),
        (AdminAction.ClearSessions, "Clear sessions"),
        (AdminAction.IssueTemporaryAccess, "Issue a temporary access code (Okta TAC, Entra TAP)"),
    ];

    public static void Map(WebApplication app, EmulatorState state)
    {
        app.MapGet("/admin", (string? done) =>
        {
            var activity = done is null ? null : state.AdminActivities.FirstOrDefault(a => a.Id == done && a.Actor.Kind == AdminActorKind.Administrator);
            return Html.Result(Page(state, activity is null ? null : Confirmation(activity), error: null));
        });

        app.MapPost("/admin/act", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var side = form["side"].ToString() switch
            {
                "okta" => IdpSide.Okta,
                "entra" => (IdpSide?)IdpSide.Entra,
                _ => null,
            };
            var action = Actions.FirstOrDefault(a => a.Action.ToString() == form["action"].ToString());
            var user = form["user"].ToString();
            if (side is null || action.Label is null || user.Length == 0)
            {
                return Html.Result(Page(state, null, "Choose a user and an action."), 400);
            }

            try
            {
                var recorded = state.ActAsAdmin(action.Action, user, side.Value);
                // Post/redirect/get: the confirmation is read back from the log, so a reload does not act twice.
                return Results.Redirect("/admin?done=" + Uri.EscapeDataString(recorded[0].Id));
            }
            catch (ArgumentException)
            {
                return Html.Result(Page(state, null, "No such user."), 404);
            }
            catch (InvalidOperationException refused)
            {
                return Html.Result(Page(state, null, "Refused by the IdP: " + refused.Message), 409);
            }
        });
    }

    private static string Page(EmulatorState state, string? confirmation, string? error)
    {
        var body = new StringBuilder("<p><a href=\"/phone\">Caller phones</a></p><h1>IdP administrator console</h1>");
        body.Append("<p class=\"muted\">What an IdP administrator does here bypasses the portal: the IdP's audit log names the administrator, ")
            .Append("not the portal's credential. The portal's reconciliation should flag it.</p>");
        if (confirmation is not null)
        {
            body.Append("<p class=\"card preselected\" role=\"status\">").Append(Html.E(confirmation)).Append("</p>");
        }

        if (error is not null)
        {
            body.Append("<p class=\"card preselected\" role=\"alert\">").Append(Html.E(error)).Append("</p>");
        }

        body.Append("<h2>Okta org (as ").Append(Html.E(EmulatorAdmins.OktaAdminName)).Append(")</h2><ul>");
        foreach (var caller in state.Callers)
        {
            UserForm(body, "okta", caller.Login, caller.FirstName + " " + caller.LastName, caller.Login + " · " + caller.Status, unlock: true);
        }

        body.Append("</ul><h2>Entra directory (as ").Append(Html.E(EmulatorAdmins.EntraAdminName)).Append(")</h2><ul>");
        foreach (var user in state.EntraUsers)
        {
            // Entra has no administrator unlock.
            UserForm(body, "entra", user.UserPrincipalName, user.DisplayName, user.UserPrincipalName, unlock: false);
        }

        body.Append("</ul>");
        return Html.Page("IdP administrator console", body.ToString());
    }

    private static void UserForm(StringBuilder body, string side, string login, string name, string detail, bool unlock)
    {
        body.Append("<li class=\"card\"><div>").Append(Html.E(name)).Append(" <span class=\"muted\">").Append(Html.E(detail)).Append("</span></div>");
        body.Append("<form method=\"post\" action=\"/admin/act\">").Append(Html.Hidden("side", side)).Append(Html.Hidden("user", login));
        body.Append("<select name=\"action\" aria-label=\"Action on ").Append(Html.E(login)).Append("\">");
        foreach (var (action, label) in Actions.Where(a => unlock || a.Action != AdminAction.Unlock))
        {
            body.Append("<option value=\"").Append(Html.E(action.ToString())).Append("\">").Append(Html.E(label)).Append("</option>");
        }

        body.Append("</select> <button type=\"submit\">Do it as an IdP administrator</button></form></li>");
    }

    private static string Confirmation(AdminActivity activity)
    {
        var what = activity.Kind switch
        {
            AdminActivityKind.PasswordReset => "Reset password",
            AdminActivityKind.FactorsReset or AdminActivityKind.FactorRemoved => "Reset MFA",
            AdminActivityKind.Unlocked => "Unlock",
            AdminActivityKind.SessionsCleared => "Clear sessions",
            AdminActivityKind.TemporaryAccessIssued => activity.Side == IdpSide.Okta ? "Issue a temporary access code" : "Issue a temporary access pass",
            _ => activity.Kind.ToString(),
        };
        var at = activity.At.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        return $"Done: {what} for {Mask(activity.TargetLogin)} as {activity.Actor.DisplayName} at {at} UTC "
            + "(this is what an attacker who talked an admin into it would do).";
    }

    /// <summary>The login with its local part hidden but its first letter, as the portal shows a caller's contact.</summary>
    internal static string Mask(string login)
    {
        var at = login.LastIndexOf('@');
        return at <= 0 ? "***" : login[..1] + "***" + login[at..];
    }
}
