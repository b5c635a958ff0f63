using System.Diagnostics.CodeAnalysis;

namespace Portal.Idp;

/// <summary>Why an IdP call did not succeed, in categories the console can explain and the audit can record.</summary>
public enum IdpErrorKind
{
    /// <summary>No such user or factor.</summary>
    NotFound,

    /// <summary>The passcode was wrong.</summary>
    InvalidPasscode,

    /// <summary>The request was refused as invalid (e.g. Okta E0000001).</summary>
    Invalid,

    /// <summary>The portal's credentials lack the right (e.g. a privileged target, or a missing scope).</summary>
    AccessDenied,

    /// <summary>The portal's credentials were rejected (misconfigured or revoked API token).</summary>
    Unauthorized,

    /// <summary>The IdP rate-limited the portal; <see cref="IdpError.RetryAfter"/> says when to try again.</summary>
    RateLimited,

    /// <summary>The IdP could not be reached or answered with a server error; nothing is known to have happened.</summary>
    Unavailable,

    /// <summary>The account is in a state where this operation is not possible (e.g. not locked).</summary>
    Conflict,
}

/// <summary>
/// An expected IdP failure. <see cref="Code"/> is the IdP's own error code (safe to audit);
/// <see cref="AgentMessage"/> is a sentence for the agent; neither carries PII.
/// </summary>
public sealed record IdpError(IdpErrorKind Kind, string Code, string AgentMessage, TimeSpan? RetryAfter = null)
{
    /// <summary>
    /// A change was sent and no answer came (a timeout, a dropped connection, a server error after the request): it may or
    /// may not have happened at the IdP. Never set on a read, nor when the IdP was not reached at all (its token service).
    /// </summary>
    public bool OutcomeUnknown { get; init; }
}

/// <summary>The outcome of an IdP call: a value or an <see cref="IdpError"/>.</summary>
public readonly struct IdpResult<T>
{
    private readonly T? _value;

    private IdpResult(T? value, IdpError? error)
    {
        _value = value;
        Error = error;
    }

    public IdpError? Error { get; }

    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    /// <summary>The value; throws when the call failed (check <see cref="IsSuccess"/> first).</summary>
    public T Value => Error is null ? _value! : throw new InvalidOperationException($"The IdP call failed: {Error.Kind} ({Error.Code}).");

    public static IdpResult<T> Success(T value) => new(value, null);

    public static IdpResult<T> Failure(IdpError error) => new(default, error ?? throw new ArgumentNullException(nameof(error)));

    public static implicit operator IdpResult<T>(IdpError error) => Failure(error);
}
