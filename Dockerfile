# Build stage: the same Maven build as README's.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
COPY sql sql
COPY conf conf
RUN mvn -B -q -DskipTests package

# Run stage: the jar and its default config, as a non-root user, against an external PostgreSQL (HODEI_PG_URL).
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home /opt/hodei hodei
WORKDIR /opt/hodei
COPY --from=build /src/target/hodei-pools.jar /opt/hodei/hodei-pools.jar
COPY conf /opt/hodei/conf
RUN mkdir -p /opt/hodei/data && chown -R hodei /opt/hodei
USER hodei
EXPOSE 8080 9090 9091
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3"]
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/hodei/hodei-pools.jar"]
