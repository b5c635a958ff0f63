using System.Diagnostics.CodeAnalysis;
using Portal.Web.Platform;

namespace Portal.Web.Verification;

/// <summary>
/// A verification session's id (<see cref="PortalIds"/>: 32 lower-case hex characters). An id that comes in from a form
/// or a route is parsed once, where it comes in; a malformed one never reaches a store. Stored documents keep the text.
/// </summary>
public readonly record struct VerificationId
{
    private VerificationId(string value) => Value = value;

    public string Value { get; }

    public static VerificationId New() => new(PortalIds.New());

    public static bool TryParse([NotNullWhen(true)] string? text, out VerificationId id)
    {
        id = PortalIds.IsWellFormed(text) ? new VerificationId(text!) : default;
        return id.Value is not null;
    }

    /// <summary>The id of a session read from the store.</summary>
    public static VerificationId Of(VerificationSession session) => new(session.Id);

    public override string ToString() => Value;
}

/// <summary>
/// A challenge's id (a <see cref="PendingVerification"/>: a push, an Entra push or a step-up the agent started), the
/// same shape as <see cref="VerificationId"/> but never one: a challenge is not a verification until it is approved.
/// </summary>
public readonly record struct ChallengeId
{
    private ChallengeId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? text, out ChallengeId id)
    {
        id = PortalIds.IsWellFormed(text) ? new ChallengeId(text!) : default;
        return id.Value is not null;
    }

    /// <summary>The id of a challenge read from the store.</summary>
    public static ChallengeId Of(PendingVerification pending) => new(pending.Id);

    public override string ToString() => Value;
}
