using System.Net;

namespace Portal.Web.Tenancy;

/// <summary>
/// How a tenant recovers a caller who cannot use their own factors (section <c>Portal:Tenants:N:Recovery</c>,
/// docs/recovery.md): which recovery methods the console offers, whether an action done through one also needs a
/// second agent's approval, and how the caller is told afterwards. Off by default: a tenant turns recovery on knowingly.
/// </summary>
public sealed class RecoverySettings
{
    /// <summary>Whether agents may verify a caller by their manager's approval (<c>recovery.manager</c>).</summary>
    public bool ManagerApproval { get; set; }

    /// <summary>
    /// Whether agents may verify a caller by calling them back at the work phone on file (<c>recovery.callback</c>):
    /// weaker than manager approval, so by default it opens only "Sign out everywhere" (docs/recovery.md).
    /// </summary>
    public bool CallBack { get; set; }

    /// <summary>
    /// Whether agents may verify a caller by the identity verification the organisation set up at Okta (an ID document
    /// and a selfie at its vendor, <c>recovery.idv</c>), read from Okta's System Log. Okta organisations only: Entra ID
    /// gives an app no such result (docs/recovery.md).
    /// </summary>
    public bool IdVerification { get; set; }

    /// <summary>Whether every action done through a recovery method also needs a second agent's approval, as for a privileged target.</summary>
    public bool RequireSecondAgent { get; set; }

    /// <summary>How the caller is told after an action through a recovery method; without a relay no recovery method is offered.</summary>
    public RecoveryNoticeSettings Notices { get; set; } = new();
}

/// <summary>
/// The part of <see cref="RecoverySettings"/> a tenant admin edits in the console (docs/recovery.md, "Turning recovery
/// on in the console"), stored with the tenant's policy: the four switches, never the notices' relay (a host and a secret
/// reference, configuration only).
/// </summary>
public sealed class RecoverySwitches
{
    public bool ManagerApproval { get; set; }

    public bool CallBack { get; set; }

    public bool IdVerification { get; set; }

    public bool RequireSecondAgent { get; set; }

    public static RecoverySwitches From(RecoverySettings settings) => new()
    {
        ManagerApproval = settings.ManagerApproval,
        CallBack = settings.CallBack,
        IdVerification = settings.IdVerification,
        RequireSecondAgent = settings.RequireSecondAgent,
    };

    /// <summary>Lays the switches over <paramref name="settings"/>, whose relay stays as configured.</summary>
    public void ApplyTo(RecoverySettings settings)
    {
        settings.ManagerApproval = ManagerApproval;
        settings.CallBack = CallBack;
        settings.IdVerification = IdVerification;
        settings.RequireSecondAgent = RequireSecondAgent;
    }

    /// <summary>
    /// What a change from <paramref name="before"/> to this loosens, by the switch's name in the change history: a method
    /// turned on (one more way in without the caller's own factor), or the second agent no longer required.
    /// </summary>
    public IReadOnlyList<string> WeakeningsSince(RecoverySwitches before)
    {
        var list = new List<string>();
        if (ManagerApproval && !before.ManagerApproval)
        {
            list.Add("recovery.managerApproval:on");
        }

        if (CallBack && !before.CallBack)
        {
            list.Add("recovery.callBack:on");
        }

        if (IdVerification && !before.IdVerification)
        {
            list.Add("recovery.idVerification:on");
        }

        if (!RequireSecondAgent && before.RequireSecondAgent)
        {
            list.Add("recovery.requireSecondAgent:off");
        }

        return list;
    }
}

/// <summary>
/// How the caller is told after an action through a recovery method (docs/recovery.md, "Recovery notices"): an e-mail
/// through the tenant's SMTP relay. No relay: no notice can be sent, and the recovery methods are not offered.
/// </summary>
public sealed class RecoveryNoticeSettings
{
    public SmtpRelaySettings Smtp { get; set; } = new();
}

/// <summary>The tenant's SMTP relay (section <c>Portal:Tenants:N:Recovery:Notices:Smtp</c>). Empty <see cref="Host"/>: none.</summary>
public sealed class SmtpRelaySettings
{
    public const string StartTls = "StartTls";
    public const string SslOnConnect = "SslOnConnect";
    public const string None = "None";

    public string Host { get; set; } = "";

    /// <summary>0: by <see cref="Security"/>, 465 for <c>SslOnConnect</c>, else 587.</summary>
    public int Port { get; set; }

    /// <summary>The sender address of the notices (e.g. <c>helpdesk-notices@example.com</c>).</summary>
    public string From { get; set; } = "";

    /// <summary>Empty: the relay is used without authentication.</summary>
    public string UserName { get; set; } = "";

    /// <summary>Reference to the relay password (<c>env:NAME</c> or <c>file:/path</c>), with <see cref="UserName"/>.</summary>
    public string PasswordSecret { get; set; } = "";

    /// <summary><c>StartTls</c> (default), <c>SslOnConnect</c>, or <c>None</c> (a loopback relay outside Production only).</summary>
    public string Security { get; set; } = StartTls;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    public int EffectivePort => Port != 0 ? Port : string.Equals(Security, SslOnConnect, StringComparison.OrdinalIgnoreCase) ? 465 : 587;

    internal static void Validate(TenantSettings tenant, string at, List<string> failures, Action<List<string>, string, string> checkSecret, bool production)
    {
        var s = tenant.Recovery.Notices.Smtp;
        var prefix = $"{at}:Recovery:Notices:Smtp";
        if (!s.IsConfigured)
        {
            if (!string.IsNullOrWhiteSpace(s.From) || !string.IsNullOrWhiteSpace(s.UserName) || !string.IsNullOrWhiteSpace(s.PasswordSecret))
            {
                failures.Add($"{prefix}:Host must be set when the relay's other settings are.");
            }

            return;
        }

        if (Uri.CheckHostName(s.Host.Trim()) == UriHostNameType.Unknown)
        {
            failures.Add($"{prefix}:Host must be a host name or an IP address.");
        }

        if (s.Port is < 0 or > 65535)
        {
            failures.Add($"{prefix}:Port must be between 1 and 65535 (or unset: 587, or 465 with SslOnConnect).");
        }

        if (!MimeKit.MailboxAddress.TryParse(s.From, out var from) || from.Address.IndexOf('@', StringComparison.Ordinal) <= 0)
        {
            failures.Add($"{prefix}:From must be an e-mail address.");
        }

        if (string.IsNullOrWhiteSpace(s.UserName) != string.IsNullOrWhiteSpace(s.PasswordSecret))
        {
            failures.Add($"{prefix}:UserName and PasswordSecret must be set together (or neither, for a relay without authentication).");
        }
        else if (!string.IsNullOrWhiteSpace(s.PasswordSecret))
        {
            checkSecret(failures, $"{prefix}:PasswordSecret", s.PasswordSecret);
        }

        if (!string.Equals(s.Security, StartTls, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(s.Security, SslOnConnect, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(s.Security, None, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"{prefix}:Security must be {StartTls}, {SslOnConnect} or {None}.");
        }
        else if (string.Equals(s.Security, None, StringComparison.OrdinalIgnoreCase) && (production || !IsLoopback(s.Host)))
        {
            // A notice in clear on the network, and the relay password with it: only a relay on this machine, never in Production.
            failures.Add($"{prefix}:Security may be {None} only for a loopback relay (localhost, 127.0.0.1, ::1) outside Production.");
        }
    }

    public static bool IsLoopback(string host) =>
        string.Equals(host.Trim(), "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim().Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
