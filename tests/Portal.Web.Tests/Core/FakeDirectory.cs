using Portal.Idp;

namespace Portal.Web.Tests.Core;

/// <summary>
/// An IdP directory whose admin roles and groups answer as a test sets them (a result, or an exception thrown as an
/// outage would), and which records whom it was asked about; every other call is not to be made by the core's rules.
/// </summary>
internal sealed class FakeDirectory : ICallerDirectory
{
    public Func<IdpResult<IReadOnlyList<string>>> Groups { get; set; } = () => IdpResult<IReadOnlyList<string>>.Success([]);

    public Func<IdpResult<IReadOnlyList<string>>> Roles { get; set; } = () => IdpResult<IReadOnlyList<string>>.Success([]);

    public List<string> GroupLookups { get; } = [];

    public List<string> RoleLookups { get; } = [];

    public Task<IdpResult<IReadOnlyList<string>>> ListAdminRolesAsync(string callerId, CancellationToken cancellationToken = default)
    {
        RoleLookups.Add(callerId);
        return Task.FromResult(Roles());
    }

    public Task<IdpResult<IReadOnlyList<string>>> ListGroupsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        GroupLookups.Add(callerId);
        return Task.FromResult(Groups());
    }

    public Task<IdpResult<CallerProfile>> FindCallerAsync(string loginOrEmail, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<CallerProfile>> GetCallerAsync(string callerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<CallerProfile>> GetManagerAsync(string callerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<IdentityVerificationResult>> FindIdentityVerificationAsync(string callerId, DateTimeOffset since, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<IReadOnlyList<CallerFactor>>> ListFactorsAsync(string callerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<PushChallenge>> StartPushAsync(string callerId, string factorId, ChallengeContext context, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<PushState>> PollPushAsync(string callerId, string pollReference, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<TotpOutcome>> VerifyTotpAsync(string callerId, string factorId, string passCode, ChallengeContext context, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<PasswordResetOutcome>> ResetPasswordAsync(string callerId, PasswordResetKind kind, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<Done>> RevokeSessionsAsync(string callerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<Done>> UnlockAsync(string callerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<FactorResetOutcome>> ResetFactorsAsync(string callerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<TemporaryAccess>> IssueTemporaryAccessAsync(string callerId, TimeSpan lifetime, bool usableOnce, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IdpResult<AccountActionPage>> ReadAccountActionsAsync(string? cursor, DateTimeOffset since, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
