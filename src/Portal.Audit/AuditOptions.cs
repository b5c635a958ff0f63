using Microsoft.Extensions.Options;

namespace Portal.Audit;

/// <summary>The audit library's settings. The web application fills them (the key comes from a secret reference).</summary>
public sealed class AuditOptions
{
    public const int MinRetentionDays = 1;
    public const int MaxRetentionDays = 400;
    public const int MinKeyBytes = 32;

    /// <summary>The pseudonymisation secret, base64, at least 32 bytes once decoded.</summary>
    public string PseudonymisationKey { get; set; } = "";

    /// <summary>Retention of audit records when no tenant setting says otherwise.</summary>
    public int DefaultRetentionDays { get; set; } = 30;

    internal static bool TryDecodeKey(string? value, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        try
        {
            key = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        return key.Length >= MinKeyBytes;
    }
}

/// <summary>A missing or short pseudonymisation key would make caller pseudonyms guessable: the portal does not start.</summary>
internal sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.PseudonymisationKey))
        {
            failures.Add("Portal:Audit:PseudonymisationKey must be set (base64, at least 32 bytes).");
        }
        else if (!AuditOptions.TryDecodeKey(options.PseudonymisationKey, out _))
        {
            failures.Add("Portal:Audit:PseudonymisationKey must be base64 of at least 32 bytes.");
        }

        if (options.DefaultRetentionDays is < AuditOptions.MinRetentionDays or > AuditOptions.MaxRetentionDays)
        {
            failures.Add($"Portal:Audit:DefaultRetentionDays must be between {AuditOptions.MinRetentionDays} and {AuditOptions.MaxRetentionDays}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The retention when the host registers no tenant-aware one.</summary>
internal sealed class DefaultAuditRetention(IOptions<AuditOptions> options) : IAuditRetention
{
    public TimeSpan For(string tenantId) => TimeSpan.FromDays(options.Value.DefaultRetentionDays);
}
