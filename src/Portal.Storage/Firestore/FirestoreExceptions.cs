namespace Portal.Storage.Firestore;

/// <summary>
/// Firestore refused or failed a request. <see cref="Status"/> is the canonical gRPC status name
/// (<c>NOT_FOUND</c>, <c>FAILED_PRECONDITION</c>, …). Messages never carry document paths: ids can be
/// session ids, and exception messages end up in logs.
/// </summary>
public class FirestoreException : Exception
{
    public FirestoreException()
        : this("UNKNOWN", "Firestore failed.")
    {
    }

    public FirestoreException(string message)
        : this("UNKNOWN", message)
    {
    }

    public FirestoreException(string message, Exception innerException)
        : this("UNKNOWN", message, innerException)
    {
    }

    public FirestoreException(string status, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
    }

    /// <summary>The canonical status name, e.g. <c>ABORTED</c>.</summary>
    public string Status { get; }
}

/// <summary>
/// Firestore could not be reached or did not answer in time (<c>UNAVAILABLE</c>, <c>DEADLINE_EXCEEDED</c>,
/// <c>RESOURCE_EXHAUSTED</c>, a network failure). A write that failed this way may or may not have been applied.
/// </summary>
public sealed class FirestoreUnavailableException : FirestoreException
{
    public FirestoreUnavailableException()
        : this("UNAVAILABLE", "Firestore is unavailable.")
    {
    }

    public FirestoreUnavailableException(string message)
        : this("UNAVAILABLE", message)
    {
    }

    public FirestoreUnavailableException(string message, Exception innerException)
        : this("UNAVAILABLE", message, innerException)
    {
    }

    public FirestoreUnavailableException(string status, string message, Exception? innerException = null)
        : base(status, message, innerException)
    {
    }
}

/// <summary>
/// Firestore refused the portal's identity (<c>PERMISSION_DENIED</c>, <c>UNAUTHENTICATED</c>) or no
/// credentials could be found: a deployment problem, so the message says which setting or role to fix.
/// </summary>
public sealed class FirestoreAccessDeniedException : FirestoreException
{
    public FirestoreAccessDeniedException()
        : this("PERMISSION_DENIED", "Firestore refused the portal's credentials.")
    {
    }

    public FirestoreAccessDeniedException(string message)
        : this("PERMISSION_DENIED", message)
    {
    }

    public FirestoreAccessDeniedException(string message, Exception innerException)
        : this("PERMISSION_DENIED", message, innerException)
    {
    }

    public FirestoreAccessDeniedException(string status, string message, Exception? innerException = null)
        : base(status, message, innerException)
    {
    }
}
