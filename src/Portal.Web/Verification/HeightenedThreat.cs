using Portal.Idp;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification;

/// <summary>
/// What heightened-threat mode changes in verification (docs/tenancy.md, "Heightened-threat mode"): the built-in floor
/// of methods, below which a start is refused before anything reaches the caller, and the words agents read about it.
/// The second agent's approval it asks for every action is the privileged-target approval (<c>ActionService</c>).
/// </summary>
public static class HeightenedThreat
{
    /// <summary>The refusal code of a start below the floor, and the part of an approval's audit reason that says why it was asked.</summary>
    public const string Code = "heightened_mode";

    /// <summary>
    /// The methods refused while the mode is on: a code read out over the phone (TOTP), a push with no number to match
    /// (Entra's Authenticator push), both of which a caller who has talked the agent into it can pass on, and a call-back
    /// to the number on file, which a forwarded or ported line answers for the impostor (docs/recovery.md).
    /// </summary>
    public static IReadOnlyList<string> RefusedMethods { get; } = [VerificationMethods.OktaTotp, VerificationMethods.EntraPush, VerificationMethods.RecoveryCallBack];

    /// <summary>Whether the tenant's mode refuses <paramref name="method"/> now.</summary>
    public static bool Refuses(TenantSettings tenant, string? method) => Refuses(tenant.HeightenedMode, method);

    /// <summary>Whether a tenant's mode, as the console page carries it, refuses <paramref name="method"/>.</summary>
    public static bool Refuses(HeightenedModeSettings mode, string? method) => mode.On && method is not null && RefusedMethods.Contains(method);

    /// <summary>The refusal of a start by a method below the floor.</summary>
    public static Refusal RefusalOf(string method) =>
        new(Code, $"Heightened-threat mode is on in your organisation: {MethodLabels.Phrase(method)} is not accepted now. Verify the caller with a push with number matching or a step-up sign-in.");

    /// <summary>What the console says instead of offering the refused methods.</summary>
    public const string NotOffered = "Heightened-threat mode is on: authenticator codes and Authenticator pushes without number matching are not offered, because a caller can read out or approve them for someone else. Use a push with number matching or a step-up sign-in.";

    /// <summary>What the console's recovery section says instead of offering a call-back.</summary>
    public const string CallBackNotOffered = "Heightened-threat mode is on: a call-back to the number on file is not offered, because a forwarded or ported line would answer for an impostor.";

    /// <summary>What every agent page of the tenant says while the mode is on.</summary>
    public const string Changes = "Authenticator codes, Authenticator pushes without number matching and call-backs are refused, and every action needs a second agent's approval.";
}
