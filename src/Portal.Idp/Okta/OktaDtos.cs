using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portal.Idp.Okta;

// Only the fields the portal reads. The caller card's fields (name, title, department, manager, dates) are read for
// the agent's screen and dropped (docs/security-decisions.md "Caller context, live and never stored"). The work phone
// on file (primaryPhone) is read the same way, for that screen only: it is the number an agent calls back on, never one
// the caller gives; it is never stored or logged (CallerDetails redacts itself). The manager's id (managerId) is read
// to find the manager for manager approval. Everything else Okta sends (other phone numbers, addresses, device data)
// is never bound, so it cannot leak into a log or a view.

internal sealed class OktaUser
{
    public string? Id { get; set; }

    public string? Status { get; set; }

    public DateTimeOffset? StatusChanged { get; set; }

    public DateTimeOffset? LastLogin { get; set; }

    public DateTimeOffset? PasswordChanged { get; set; }

    public OktaUserProfile? Profile { get; set; }
}

internal sealed class OktaUserProfile
{
    public string? Login { get; set; }

    public string? Email { get; set; }

    public string? DisplayName { get; set; }

    public string? FirstName { get; set; }

    public string? LastName { get; set; }

    public string? Title { get; set; }

    public string? Department { get; set; }

    public string? Manager { get; set; }

    /// <summary>The manager's Okta user id or login, as the organisation fills it.</summary>
    public string? ManagerId { get; set; }

    /// <summary>The work phone on file: for the agent's screen only, never stored or logged.</summary>
    public string? PrimaryPhone { get; set; }
}

internal sealed class OktaGroup
{
    public string? Id { get; set; }

    public OktaGroupProfile? Profile { get; set; }
}

internal sealed class OktaGroupProfile
{
    public string? Name { get; set; }
}

/// <summary>An administrator role assignment (<c>listAssignedRolesForUser</c>): direct (USER) or through a group (GROUP).</summary>
internal sealed class OktaRole
{
    public string? Type { get; set; }

    public string? Label { get; set; }

    public string? Status { get; set; }

    public string? AssignmentType { get; set; }
}

internal sealed class OktaFactor
{
    public string? Id { get; set; }

    public string? FactorType { get; set; }

    public string? Provider { get; set; }

    public string? Status { get; set; }

    public DateTimeOffset? Created { get; set; }

    [JsonPropertyName("_links")]
    public OktaFactorLinks? Links { get; set; }
}

internal sealed class OktaFactorLinks
{
    public OktaLink? Self { get; set; }

    public OktaLink? Verify { get; set; }
}

internal sealed class OktaVerifyResult
{
    public string? FactorResult { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    [JsonPropertyName("_links")]
    public OktaVerifyLinks? Links { get; set; }

    [JsonPropertyName("_embedded")]
    public OktaVerifyEmbedded? Embedded { get; set; }
}

internal sealed class OktaVerifyLinks
{
    public OktaLink? Poll { get; set; }

    public OktaLink? Cancel { get; set; }
}

internal sealed class OktaLink
{
    public string? Href { get; set; }
}

internal sealed class OktaVerifyEmbedded
{
    public OktaChallenge? Challenge { get; set; }
}

internal sealed class OktaChallenge
{
    public JsonElement? CorrectAnswer { get; set; }

    /// <summary>Okta documents an integer; a numeric string is accepted too. Anything else counts as no challenge.</summary>
    public int? Number => CorrectAnswer switch
    {
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out var value) => value,
        { ValueKind: JsonValueKind.String } s when int.TryParse(s.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) => value,
        _ => null,
    };
}

internal sealed class OktaVerifyRequest
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? UseNumberMatchingChallenge { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PassCode { get; set; }
}

internal sealed class OktaResetPasswordResult
{
    public string? ResetPasswordUrl { get; set; }
}

internal sealed class OktaTempPasswordResult
{
    public string? TempPassword { get; set; }
}

internal sealed class OktaAuthenticator
{
    public string? Id { get; set; }

    public string? Key { get; set; }

    public string? Status { get; set; }
}

internal sealed class OktaTacRequest
{
    public string AuthenticatorId { get; set; } = "";

    public OktaTacRequestProfile Profile { get; set; } = new();
}

internal sealed class OktaTacRequestProfile
{
    /// <summary>Minutes, as a string: the spec types it so (AuthenticatorProfileTacRequest).</summary>
    public string Ttl { get; set; } = "";

    public bool MultiUse { get; set; }
}

internal sealed class OktaTacEnrollment
{
    public OktaTacProfile? Profile { get; set; }
}

internal sealed class OktaTacProfile
{
    public string? Tac { get; set; }

    public bool? MultiUse { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

internal sealed class OktaErrorBody
{
    public string? ErrorCode { get; set; }

    public string? ErrorSummary { get; set; }

    public string? ErrorId { get; set; }

    public List<OktaErrorCause>? ErrorCauses { get; set; }
}

internal sealed class OktaErrorCause
{
    public string? ErrorSummary { get; set; }
}

/// <summary>
/// A System Log event (<c>listLogEvents</c>): only what reconciliation reads. The rest of the event (the client's
/// address and device, geography, debug data) is never bound, so it cannot be kept or logged.
/// </summary>
internal sealed class OktaLogEvent
{
    public string? Uuid { get; set; }

    public DateTimeOffset? Published { get; set; }

    public string? EventType { get; set; }

    public OktaLogOutcome? Outcome { get; set; }

    public OktaLogParty? Actor { get; set; }

    public OktaLogClient? Client { get; set; }

    public List<OktaLogParty>? Target { get; set; }

    public OktaLogTransaction? Transaction { get; set; }
}

internal sealed class OktaLogOutcome
{
    public string? Result { get; set; }

    /// <summary>Read for an identity verification only (<c>CLAIMS_VERIFIED</c> with <c>ALLOW</c>, or why Okta denied).</summary>
    public string? Reason { get; set; }
}

/// <summary>An actor or a target: Okta's id, type (<c>User</c>, <c>PublicClientApp</c>, …) and login.</summary>
internal sealed class OktaLogParty
{
    public string? Id { get; set; }

    public string? Type { get; set; }

    public string? AlternateId { get; set; }

    /// <summary>Read only for a target of type <c>AuthenticatorEnrollment</c>, to tell a temporary access code.</summary>
    public string? DisplayName { get; set; }
}

internal sealed class OktaLogClient
{
    /// <summary>For an OAuth request, the client id of the app that made it.</summary>
    public string? Id { get; set; }

    /// <summary>The address the request came from (kept only as its network, as every audit record).</summary>
    public string? IpAddress { get; set; }

    /// <summary>Where Okta placed the request (city, country); read for an identity verification only.</summary>
    public OktaLogGeographicalContext? GeographicalContext { get; set; }

    /// <summary>The OS and browser Okta derived from the request's user agent; read for an identity verification only.</summary>
    public OktaLogUserAgent? UserAgent { get; set; }
}

internal sealed class OktaLogGeographicalContext
{
    public string? City { get; set; }

    public string? Country { get; set; }
}

internal sealed class OktaLogUserAgent
{
    public string? Os { get; set; }

    public string? Browser { get; set; }
}

internal sealed class OktaLogTransaction
{
    public OktaLogTransactionDetail? Detail { get; set; }
}

internal sealed class OktaLogTransactionDetail
{
    /// <summary>The id of the API token a request was made with (SSWS).</summary>
    public string? RequestApiTokenId { get; set; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(OktaUser))]
[JsonSerializable(typeof(List<OktaUser>))]
[JsonSerializable(typeof(List<OktaFactor>))]
[JsonSerializable(typeof(List<OktaGroup>))]
[JsonSerializable(typeof(List<OktaRole>))]
[JsonSerializable(typeof(OktaVerifyResult))]
[JsonSerializable(typeof(OktaVerifyRequest))]
[JsonSerializable(typeof(OktaResetPasswordResult))]
[JsonSerializable(typeof(OktaTempPasswordResult))]
[JsonSerializable(typeof(List<OktaAuthenticator>))]
[JsonSerializable(typeof(OktaTacRequest))]
[JsonSerializable(typeof(OktaTacEnrollment))]
[JsonSerializable(typeof(OktaErrorBody))]
[JsonSerializable(typeof(List<OktaLogEvent>))]
internal sealed partial class OktaJson : JsonSerializerContext;
