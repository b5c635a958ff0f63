namespace Portal.Web.Platform;

/// <summary>
/// Why a step was refused. An action's refusal is answered with <see cref="Refusal.HttpStatus"/>; a verification's is
/// shown on the verification page (422) and the console's in the page itself, whatever the kind (docs/architecture.md).
/// </summary>
public enum RefusalKind
{
    /// <summary>The portal will not do it: policy, limits, a missing verification or approval (403).</summary>
    NotAllowed,

    /// <summary>The identity provider failed or refused the call (502): the agent is told exactly what it said.</summary>
    IdpFailed,

    /// <summary>The agent's page is out of date (a form, a caller reference, an id that no longer exists) (409).</summary>
    Stale,
}

/// <summary>An outcome the agent is shown: a stable <see cref="Code"/> for the audit and words without PII.</summary>
public sealed record Refusal(string Code, string Message, RefusalKind Kind = RefusalKind.NotAllowed)
{
    /// <summary>The caller's page the agent acted from has expired (its caller reference no longer opens).</summary>
    public static Refusal StaleForm { get; } = new("stale_form", "This caller's page has expired. Look the caller up again.", RefusalKind.Stale);

    /// <summary>The one mapping from a refusal's kind to an HTTP status, for the answers that carry one (an action's).</summary>
    public int HttpStatus => Kind switch
    {
        RefusalKind.IdpFailed => StatusCodes.Status502BadGateway,
        RefusalKind.Stale => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status403Forbidden,
    };
}

/// <summary>
/// A step's result: its value, or why it was refused. Some steps (a push poll that failed to reach the IdP) return the
/// value as it stands together with the refusal. Deconstructs as <c>var (value, refusal) = …</c>.
/// </summary>
public readonly record struct Outcome<T>(T? Value, Refusal? Refusal)
{
    public bool IsRefused => Refusal is not null;

    public static implicit operator Outcome<T>(T? value) => new(value, null);

    public static implicit operator Outcome<T>(Refusal refusal) => new(default, refusal);
}
