using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Portal.Storage;

/// <summary>
/// How typed records become documents and back: camelCase JSON, enums as strings, and timestamps as
/// fixed-width UTC text (<c>2026-11-23T08:36:50.0000000Z</c>) so that they compare and order the same way
/// in every backend.
/// </summary>
public static class DocumentJson
{
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static JsonObject ToDocument<T>(T value) =>
        JsonSerializer.SerializeToNode(value, Options) as JsonObject
        ?? throw new InvalidOperationException($"{typeof(T).Name} does not serialize to a JSON object.");

    public static T FromDocument<T>(JsonObject data) =>
        data.Deserialize<T>(Options) ?? throw new InvalidOperationException($"The document is not a {typeof(T).Name}.");

    /// <summary>The stored text form of a timestamp, for filters and cursors.</summary>
    public static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.Converters.Add(new FixedWidthTimestampConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    private sealed class FixedWidthTimestampConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(FormatTimestamp(value));
    }
}
