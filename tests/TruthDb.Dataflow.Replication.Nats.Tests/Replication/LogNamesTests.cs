namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

public sealed class LogNamesTests
{
    [Theory]
    [InlineData("/var/lib/orders", "orders")]
    [InlineData("/var/lib/orders.v2/", "orders_v2")]
    [InlineData("data/my log*>", "my_log__")]
    [InlineData("data/Ünïcode", "_n_code")]
    public void FromDirectory_AnyDirectoryName_IsOneValidSubjectToken(string directory, string expected)
    {
        var name = LogNames.FromDirectory(directory);
        Assert.Equal(expected, name);
        Assert.True(LogNames.IsToken(name));
        Assert.True(LogNames.IsSubject(LogNames.DefaultSubject(name)));
        Assert.Equal("truthdb." + expected, LogNames.DefaultSubject(name));
    }

    [Theory]
    [InlineData("truthdb.orders", true)]
    [InlineData("truthdb.*", false)]
    [InlineData("truthdb.>", false)]
    [InlineData("truthdb..orders", false)]
    [InlineData("truthdb orders", false)]
    public void IsSubject_LiteralSubjectsOnly(string subject, bool valid) => Assert.Equal(valid, LogNames.IsSubject(subject));

    [Fact]
    public void Validate_BadValues_NameTheOption()
    {
        Assert.Equal("StreamName", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions().Validate()).ParamName);
        Assert.Equal("StreamName", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "a.b" }.Validate()).ParamName);
        Assert.Equal("MaxInFlight", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "s", MaxInFlight = 0 }.Validate()).ParamName);
        Assert.Equal("Replicas", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "s", Replicas = 6 }.Validate()).ParamName);
        Assert.Equal("Subject", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "s", Subject = "a.*" }.Validate()).ParamName);
        Assert.Equal("BatchMaxRecords", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "s", BatchMaxRecords = 0 }.Validate()).ParamName);
        Assert.Equal("BatchMaxBytes", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "s", BatchMaxBytes = 1023 }.Validate()).ParamName);
        Assert.Equal("Format", Assert.Throws<ArgumentException>(() => new NatsReplicatorOptions { StreamName = "s", Format = (NatsMessageFormat)7 }.Validate()).ParamName);
        new NatsReplicatorOptions { StreamName = "s" }.Validate();
    }
}
