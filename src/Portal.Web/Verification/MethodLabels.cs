using Portal.Idp;

namespace Portal.Web.Verification;

/// <summary>Verification methods in the words agents and auditors read, never the internal code.</summary>
public static class MethodLabels
{
    public static string Name(string? method) => method switch
    {
        VerificationMethods.OktaPush => "Okta Verify push with number matching",
        VerificationMethods.OktaTotp => "Authenticator code",
        VerificationMethods.OidcStepUp => "Step-up sign-in",
        VerificationMethods.EntraPush => "Microsoft Authenticator push",
        VerificationMethods.RecoveryManager => "Manager approval (recovery)",
        VerificationMethods.RecoveryCallBack => "Call-back to the number on file (recovery, weaker)",
        VerificationMethods.RecoveryIdVerification => "ID verification through Okta (recovery)",
        Reconciliation.ReconciliationWatcher.OktaSource => "Not verified: read from Okta's System Log",
        Reconciliation.ReconciliationWatcher.EntraSource => "Not verified: read from Entra's audit log",
        null or "" => "",
        _ => method,
    };

    /// <summary>For a narrow table column (the audit list): short, still words.</summary>
    public static string Brief(string? method) => method switch
    {
        VerificationMethods.OktaPush => "Push, number matching",
        VerificationMethods.OktaTotp => "Authenticator code",
        VerificationMethods.OidcStepUp => "Step-up sign-in",
        VerificationMethods.EntraPush => "Authenticator push",
        VerificationMethods.RecoveryManager => "Manager approval",
        VerificationMethods.RecoveryCallBack => "Call-back",
        VerificationMethods.RecoveryIdVerification => "ID verification",
        Reconciliation.ReconciliationWatcher.OktaSource => "Okta System Log",
        Reconciliation.ReconciliationWatcher.EntraSource => "Entra audit log",
        null or "" => "",
        _ => method,
    };

    /// <summary>Methods as the objects of one sentence: "a push with number matching, a step-up sign-in or the caller's manager's approval".</summary>
    public static string Alternatives(IEnumerable<string> methods)
    {
        var phrases = methods.Select(Phrase).ToList();
        return phrases.Count < 2 ? string.Concat(phrases) : string.Join(", ", phrases[..^1]) + " or " + phrases[^1];
    }

    /// <summary>As the object of a sentence: "accepts a step-up sign-in".</summary>
    public static string Phrase(string method) => method switch
    {
        VerificationMethods.OktaPush => "a push with number matching",
        VerificationMethods.OidcStepUp => "a step-up sign-in",
        VerificationMethods.OktaTotp => "an authenticator code",
        VerificationMethods.EntraPush => "an Authenticator push",
        VerificationMethods.RecoveryManager => "the caller's manager's approval",
        VerificationMethods.RecoveryCallBack => "a call-back to the number on file",
        VerificationMethods.RecoveryIdVerification => "an ID verification through Okta",
        _ => method,
    };
}

/// <summary>An account status in words, as the agent reads it (never the enum name).</summary>
public static class StatusLabels
{
    public static string Name(CallerStatus status) => status switch
    {
        CallerStatus.Active => "active",
        CallerStatus.LockedOut => "locked out",
        CallerStatus.PasswordExpired => "password expired",
        CallerStatus.Recovery => "in password recovery",
        CallerStatus.Suspended => "suspended",
        CallerStatus.Deprovisioned => "deactivated",
        CallerStatus.Staged => "staged, not yet activated",
        CallerStatus.Provisioned => "provisioned, not yet activated by the user",
        _ => "in an unknown state",
    };
}

/// <summary>An enrolled factor's kind in words (never the enum name).</summary>
public static class FactorLabels
{
    public static string Name(FactorKind kind) => kind switch
    {
        FactorKind.Push => "Push app",
        FactorKind.Totp => "Authenticator code (TOTP)",
        FactorKind.Sms => "SMS code",
        FactorKind.Call => "Voice call",
        FactorKind.Email => "E-mail code",
        FactorKind.Question => "Security question",
        FactorKind.SignedNonce => "Okta FastPass",
        FactorKind.WebAuthn => "Security key or passkey",
        FactorKind.HardwareToken => "Hardware token",
        _ => "Other",
    };
}
