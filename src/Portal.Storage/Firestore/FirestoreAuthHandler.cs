using System.Net.Http.Headers;
using Google.Apis.Auth.OAuth2;

namespace Portal.Storage.Firestore;

/// <summary>
/// Puts a bearer token on every Firestore request. On Google Cloud the token comes from Application
/// Default Credentials (the Cloud Run service account); the library caches and refreshes it. Against the
/// emulator the fixed token <c>owner</c> is sent and ADC is never touched, so a developer machine's own
/// Google credentials are never sent anywhere.
/// </summary>
internal sealed class FirestoreAuthHandler : DelegatingHandler
{
    internal const string Scope = "https://www.googleapis.com/auth/datastore";

    private readonly FirestoreTarget _target;
    private readonly SemaphoreSlim _credentialLock = new(1, 1);
    private ITokenAccess? _credential;

    public FirestoreAuthHandler(FirestoreTarget target)
    {
        _target = target;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = _target.IsEmulator ? "owner" : await GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _credentialLock.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var credential = _credential ?? await LoadCredentialAsync(cancellationToken);
        try
        {
            return await credential.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new FirestoreAccessDeniedException("UNAUTHENTICATED", "No access token for Firestore could be obtained from Application Default Credentials; check the Cloud Run service account (it needs roles/datastore.user).", ex);
        }
    }

    private async Task<ITokenAccess> LoadCredentialAsync(CancellationToken cancellationToken)
    {
        await _credentialLock.WaitAsync(cancellationToken);
        try
        {
            if (_credential is null)
            {
                GoogleCredential credential;
                try
                {
                    credential = await GoogleCredential.GetApplicationDefaultAsync(cancellationToken);
                }
                catch (InvalidOperationException ex)
                {
                    throw new FirestoreAccessDeniedException("UNAUTHENTICATED", "No Google Application Default Credentials were found for Firestore. On Cloud Run, set a service account with roles/datastore.user; locally, run the emulator and set Portal:Storage:Firestore:EmulatorHost (or FIRESTORE_EMULATOR_HOST).", ex);
                }

                _credential = credential.IsCreateScopedRequired ? credential.CreateScoped(Scope) : credential;
            }

            return _credential;
        }
        finally
        {
            _credentialLock.Release();
        }
    }
}
