namespace Portal.Idp.Okta;

/// <summary>Which Okta factors the portal can challenge, and Okta's statuses in the portal's terms.</summary>
internal static class OktaFactorRules
{
    internal const string RestrictedReason = "SMS/voice/e-mail codes are restricted authenticators and are not accepted";
    internal const string QuestionReason = "security questions are not accepted";
    internal const string FastPassReason = "Okta FastPass cannot be challenged remotely";
    internal const string WebAuthnReason = "security keys cannot be challenged remotely";
    internal const string UnsupportedReason = "not supported";

    /// <summary>
    /// Only AAL2 methods the portal can drive end to end are offered: Okta Verify push (with number
    /// matching, enforced when it is started) and a software TOTP. Codes sent over SMS, voice or e-mail
    /// can be phished or redirected (NIST SP 800-63B restricted authenticators), and a knowledge question
    /// is not an authenticator at all.
    /// </summary>
    public static CallerFactor Classify(OktaFactor factor)
    {
        var type = factor.FactorType ?? "";
        var provider = factor.Provider ?? "";
        var status = factor.Status ?? "";
        var isActive = string.Equals(status, "ACTIVE", StringComparison.Ordinal);
        var kind = ToKind(type);

        string? refusal = kind switch
        {
            FactorKind.Sms or FactorKind.Call or FactorKind.Email => RestrictedReason,
            FactorKind.Question => QuestionReason,
            FactorKind.SignedNonce => FastPassReason,
            FactorKind.WebAuthn => WebAuthnReason,
            FactorKind.Push when provider == "OKTA" => null,
            FactorKind.Totp when provider is "OKTA" or "GOOGLE" => null,
            _ => UnsupportedReason,
        };
        if (refusal is null && !isActive)
        {
            refusal = $"not active (status {SafeStatus(status)})";
        }

        var method = refusal is not null ? null : kind == FactorKind.Push ? VerificationMethods.OktaPush : VerificationMethods.OktaTotp;
        return new CallerFactor(factor.Id ?? "", kind, provider, isActive, method, refusal) { EnrolledAt = factor.Created };
    }

    public static FactorKind ToKind(string factorType) => factorType switch
    {
        "push" => FactorKind.Push,
        "token:software:totp" => FactorKind.Totp,
        "sms" => FactorKind.Sms,
        "call" => FactorKind.Call,
        "email" => FactorKind.Email,
        "question" => FactorKind.Question,
        "signed_nonce" => FactorKind.SignedNonce,
        "webauthn" or "u2f" => FactorKind.WebAuthn,
        "token:hardware" => FactorKind.HardwareToken,
        _ => FactorKind.Other,
    };

    public static CallerStatus ToStatus(string? status) => status switch
    {
        "ACTIVE" => CallerStatus.Active,
        "LOCKED_OUT" => CallerStatus.LockedOut,
        "PASSWORD_EXPIRED" => CallerStatus.PasswordExpired,
        "RECOVERY" => CallerStatus.Recovery,
        "SUSPENDED" => CallerStatus.Suspended,
        "DEPROVISIONED" => CallerStatus.Deprovisioned,
        "STAGED" => CallerStatus.Staged,
        "PROVISIONED" => CallerStatus.Provisioned,
        _ => CallerStatus.Unknown,
    };

    // The status is shown to the agent: only Okta's upper-case status words get through.
    private static string SafeStatus(string status) =>
        status.Length is > 0 and <= 32 && status.All(c => char.IsAsciiLetterUpper(c) || c == '_') ? status : "unknown";
}
