using Microsoft.Graph.Models;

namespace Portal.Idp.Entra;

/// <summary>
/// Which registered Entra methods make a caller verifiable. Graph cannot send a challenge to any of them, so
/// the portal challenges a caller who has a strong method through a fresh MFA sign-in (<c>oidc.stepup</c>).
/// </summary>
internal static class EntraMethodRules
{
    public const string StepUpFactorId = "stepup";
    public const string Provider = "Entra";
    internal const string StrongReason = "not challenged on its own: the caller uses it in the step-up sign-in offered below.";
    internal const string PhoneReason = "SMS and voice calls are not accepted: they are restricted authenticators.";
    internal const string EmailReason = "E-mail codes are not accepted: they do not prove possession of a device.";
    internal const string TapReason = "A Temporary Access Pass is not a verification of the caller.";
    internal const string UnknownReason = "The portal does not accept this method.";

    public static IReadOnlyList<CallerFactor> ToFactors(IEnumerable<AuthenticationMethod> methods)
    {
        var factors = new List<CallerFactor>();
        var hasStrong = false;
        foreach (var method in methods)
        {
            var id = method.Id ?? "";
            CallerFactor? factor = method switch
            {
                // The password is something the caller could have been tricked out of: never a factor here.
                PasswordAuthenticationMethod => null,
                MicrosoftAuthenticatorAuthenticationMethod => Strong(id, FactorKind.Push),
                SoftwareOathAuthenticationMethod => Strong(id, FactorKind.Totp),
                Fido2AuthenticationMethod => Strong(id, FactorKind.WebAuthn),
                WindowsHelloForBusinessAuthenticationMethod => Strong(id, FactorKind.Other),
                PlatformCredentialAuthenticationMethod => Strong(id, FactorKind.Other),
                PhoneAuthenticationMethod phone => new CallerFactor(id, phone.PhoneType == AuthenticationPhoneType.Mobile ? FactorKind.Sms : FactorKind.Call, Provider, true, null, PhoneReason),
                EmailAuthenticationMethod => new CallerFactor(id, FactorKind.Email, Provider, true, null, EmailReason),
                TemporaryAccessPassAuthenticationMethod tap => new CallerFactor(id, FactorKind.Other, Provider, tap.IsUsable ?? false, null, TapReason),
                _ => new CallerFactor(id, FactorKind.Other, Provider, true, null, UnknownReason),
            };
            if (factor is null)
            {
                continue;
            }

            hasStrong |= factor.NotChallengeableReason == StrongReason;
            factors.Add(factor with { EnrolledAt = method.CreatedDateTime });
        }

        if (hasStrong)
        {
            factors.Insert(0, new CallerFactor(StepUpFactorId, FactorKind.Other, Provider, true, VerificationMethods.OidcStepUp, null));
        }

        return factors;
    }

    private static CallerFactor Strong(string id, FactorKind kind) => new(id, kind, Provider, true, null, StrongReason);
}
