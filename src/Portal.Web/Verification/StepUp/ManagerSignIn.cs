using System.Globalization;
using MimeKit;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Actions;
using Portal.Web.Verification.Methods;
using Portal.Web.Verification.Recovery;

namespace Portal.Web.Verification.StepUp;

/// <summary>What the manager's page says before they sign in: who is asking (masked as the portal masks) and for what.</summary>
public sealed record ManagerRequest(string Organisation, string CallerMaskedLogin, IReadOnlyList<string> Actions)
{
    public override string ToString() => $"ManagerRequest {{ CallerMaskedLogin = {CallerMaskedLogin} }}";
}

/// <summary>
/// Manager approval in an Entra tenant (docs/recovery.md, "Manager approval in an Entra tenant"): Graph can read the
/// manager but cannot send them a push with number matching, so the manager is sent a one-time step-up link, by e-mail
/// through the tenant's recovery-notice relay, at the address the IdP has on file for them. The agent never sees the
/// link (so no one can have it read out to the caller); the agent calls the manager at the work phone on file and reads
/// out the short code the link asks for; the manager's own strong sign-in, with their own object id, decides it
/// (<see cref="StepUpService"/>).
/// </summary>
public sealed class ManagerSignIn(StepUpStore links, ICallerPseudonymizer pseudonyms, INoticeRelay relay)
{
    /// <summary>The manager has no address on file: the link cannot reach them, and no other address is ever used.</summary>
    public const string NoAddress = "manager_no_address";

    /// <summary>
    /// Sends the manager the link of <paramref name="pending"/> (not yet stored) and keeps the link's record; the short
    /// code the agent reads out, or why nothing was sent (no address, the relay's reason code).
    /// </summary>
    public async Task<Outcome<string>> SendAsync(AgentRequest request, PendingVerification pending, CallerProfile manager, CancellationToken ct)
    {
        var tenant = request.Tenant;
        if (string.IsNullOrWhiteSpace(manager.Email) || !MailboxAddress.TryParse(manager.Email, out var to))
        {
            return new Refusal(NoAddress, "The identity provider has no e-mail address for the caller's manager, so the approval link cannot reach them. Follow your organisation's procedure for a caller who cannot use a second factor.");
        }

        var token = StepUpStore.NewToken();
        var code = StepUpMethod.NewCode();
        var link = new Uri(request.Origin.Absolute("/stepup/" + token));
        try
        {
            await relay.SendAsync(tenant, Compose(tenant, to, Describe(tenant, pending.CallerMaskedLogin), link, pending.CreatedAt), ct);
        }
        catch (NoticeRelayException ex)
        {
            return new Refusal(ex.Code, "The approval link could not be sent to the manager (the mail relay did not take it). Try again in a moment, or follow your organisation's procedure.", RefusalKind.IdpFailed);
        }

        await links.CreateLinkAsync(token, new StepUpLink
        {
            TenantId = tenant.Id,
            PendingId = pending.Id,
            CodeHash = StepUpMethod.CodeHash(pseudonyms, tenant.Id, pending.Id, code),
            ExpiresAt = pending.ExpiresAt,
        }, ct);
        return code;
    }

    /// <summary>Who asks and for what: the caller masked, and the actions the tenant accepts manager approval for.</summary>
    public static ManagerRequest Describe(TenantSettings tenant, string callerMaskedLogin) => new(
        tenant.DisplayName,
        callerMaskedLogin,
        [.. CallerAction.All.Where(a => a.AcceptedMethodsFor(tenant).Contains(VerificationMethods.RecoveryManager)).Select(a => a.Title)]);

    /// <summary>The message to the manager, in memory only: who asks, for what, and the link; never the code, never the caller's full login.</summary>
    internal static MimeMessage Compose(TenantSettings tenant, MailboxAddress to, ManagerRequest asked, Uri link, DateTimeOffset at)
    {
        var organisation = tenant.DisplayName;
        var actions = asked.Actions.Count == 0 ? "nothing" : string.Join(", ", asked.Actions).ToLowerInvariant();
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(tenant.Recovery.Notices.Smtp.From));
        message.To.Add(to);
        message.Date = at;
        message.Subject = $"{organisation}: the help desk asks you to approve a recovery for {asked.CallerMaskedLogin}";
        var when = at.UtcDateTime.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture);
        message.Body = new TextPart("plain")
        {
            Text = $"""
                {organisation}: your approval is asked

                At {when}, {organisation}'s help desk was called by someone who says they are {asked.CallerMaskedLogin}, who reports to you, and who cannot use their usual sign-in factor.
                If you approve, the help desk may do this on their account: {actions}.

                A help desk agent will call you at your work phone on file and read you a short code. Only if you vouch for this request: open this link, type that code, and sign in with your own account and your own second factor:
                {link.AbsoluteUri}

                If you know nothing of this request, do not open the link, and tell your security team: someone may be impersonating your report.
                The link works once, for 10 minutes. Never read this link or forward it to anyone, including the person who called.
                """,
        };
        return message;
    }
}
